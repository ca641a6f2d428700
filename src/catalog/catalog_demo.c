/*
 * The demo catalogue: component and event classes with the names of CJ/T 214
 * and GB/T 30428.2 (numbering as docs/catalog.md records, unconfirmed codes
 * marked there), the five 12345 demand types, realistic time limits for every
 * step (Taiyuan's published limits, the 12319 and Beijing 12345 rules; each
 * cited in docs/catalog.md), default departments of the demo district, and
 * the State Council's holiday schedules for 2025 and 2026 (the same days as
 * share/calendar-2025.csv and share/calendar-2026.csv; a test holds them equal).
 *
 * The limits every class of a major class shares (accept, file, dispatch,
 * verify and a default handle) sit on the major class; a minor class carries
 * its own handle limits where they differ, so the demo also shows the
 * fallback from a minor class to its major.
 */
#include "catalog/catalog_model.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <stdio.h>
#include <string.h>

#define DEMO_DISTRICT "110105"

#define NAT  CAL_NATURAL_MINUTES
#define WMIN CAL_WORKING_MINUTES
#define WDAY CAL_WORKING_DAYS
#define ANY  CAT_URGENCY_ANY
#define URG  CAT_URGENCY_URGENT
#define NRM  CAT_URGENCY_NORMAL
#define H    CAT_STEP_HANDLE

/* A list of limit rows ends with amount 0. */
#define END                                                                                        \
    {                                                                                              \
        0, 0, 0, 0, 0                                                                              \
    }

/* The rows every component and event major class carries. */
static const cat_limit_row major_rows[] = {
    /* 12319: accepted within half a working day (7.5 h / 2). */
    {CAT_STEP_ACCEPT, '*', ANY, 225, WMIN},
    {CAT_STEP_ACCEPT, '*', URG, 10, NAT},
    /* Taiyuan: urgent filed and dispatched within 10 min, others 30 min. */
    {CAT_STEP_FILE, '*', ANY, 30, NAT},
    {CAT_STEP_FILE, '*', URG, 10, NAT},
    {CAT_STEP_DISPATCH, '*', ANY, 30, NAT},
    {CAT_STEP_DISPATCH, '*', URG, 10, NAT},
    {H, '*', ANY, 2, WDAY},
    {H, '*', URG, 240, NAT},
    /* Taiyuan: verified within 1 h in the city and its fringe, 2 h rural. */
    {CAT_STEP_VERIFY, 'A', ANY, 60, NAT},
    {CAT_STEP_VERIFY, 'B', ANY, 60, NAT},
    {CAT_STEP_VERIFY, 'C', ANY, 120, NAT},
    {CAT_STEP_VERIFY, '*', ANY, 120, NAT},
    END,
};

/* Handle limits of minor classes, by kind of problem. An area's row with
 * urgency "*" would also win over the urgent row (the more specific area
 * comes first), so where urgent cases have their own limit the area rows
 * say "normal". */
static const cat_limit_row p_cover[] = {
    {H, 'A', NRM, 240, NAT},
    {H, 'B', NRM, 1, WDAY},
    {H, 'C', NRM, 2, WDAY},
    {H, '*', URG, 120, NAT},
    END,
};
/* Taiyuan: a missing sewer manhole cover in the city is fixed within 2 h. */
static const cat_limit_row p_sewer_cover[] = {
    {H, 'A', NRM, 120, NAT},
    {H, 'B', NRM, 120, NAT},
    {H, 'C', NRM, 240, NAT},
    {H, '*', URG, 120, NAT},
    END,
};
/* Taiyuan: three street lights out in a row are handled within 1 working day. */
static const cat_limit_row p_light[] = {
    {H, 'A', NRM, 1, WDAY},
    {H, 'B', NRM, 1, WDAY},
    {H, 'C', NRM, 2, WDAY},
    {H, '*', URG, 240, NAT},
    END,
};
static const cat_limit_row p_facility[] = {
    {H, 'A', NRM, 1, WDAY},
    {H, 'B', NRM, 2, WDAY},
    {H, 'C', NRM, 3, WDAY},
    {H, '*', URG, 240, NAT},
    END,
};
static const cat_limit_row p_traffic[] = {
    {H, 'A', NRM, 240, WMIN},
    {H, 'B', NRM, 1, WDAY},
    {H, 'C', NRM, 1, WDAY},
    {H, '*', URG, 60, NAT},
    END,
};
static const cat_limit_row p_green[] = {
    {H, 'A', NRM, 2, WDAY},
    {H, 'B', NRM, 3, WDAY},
    {H, 'C', NRM, 5, WDAY},
    {H, '*', URG, 240, NAT},
    END,
};
static const cat_limit_row p_clean[] = {
    {H, 'A', NRM, 60, NAT},
    {H, 'B', NRM, 120, NAT},
    {H, 'C', NRM, 240, WMIN},
    {H, '*', URG, 60, NAT},
    END,
};
static const cat_limit_row p_pile[] = {
    {H, 'A', NRM, 240, WMIN},
    {H, 'B', NRM, 1, WDAY},
    {H, 'C', NRM, 2, WDAY},
    {H, '*', URG, 120, NAT},
    END,
};
static const cat_limit_row p_build[] = {
    {H, 'A', ANY, 3, WDAY},
    {H, 'B', ANY, 5, WDAY},
    {H, 'C', ANY, 7, WDAY},
    END,
};
static const cat_limit_row p_street[] = {
    {H, 'A', NRM, 60, NAT},
    {H, 'B', NRM, 120, NAT},
    {H, 'C', NRM, 240, NAT},
    {H, '*', URG, 30, NAT},
    END,
};
static const cat_limit_row p_parking[] = {
    {H, 'A', ANY, 30, NAT},
    {H, 'B', ANY, 60, NAT},
    {H, 'C', ANY, 120, NAT},
    END,
};
/* Taiyuan: unlicensed open-air barbecue finished within 2 h. */
static const cat_limit_row p_barbecue[] = {
    {H, '*', ANY, 120, NAT},
    {H, '*', URG, 60, NAT},
    END,
};
static const cat_limit_row p_muck[] = {
    {H, 'A', NRM, 60, NAT},
    {H, 'B', NRM, 120, NAT},
    {H, 'C', NRM, 120, NAT},
    {H, '*', URG, 30, NAT},
    END,
};
static const cat_limit_row p_emergency[] = {
    {H, '*', ANY, 240, NAT},
    {H, 'C', NRM, 480, NAT},
    {H, '*', URG, 120, NAT},
    END,
};

/* Beijing 12345 (Dec-2021 draft): online intake within 2 h; feedback within
 * 2 h for emergencies, 24 h for utilities, 7 days in general and 15 days for
 * complex matters; the other steps as for urban management. */
#define DEMAND_COMMON                                                                              \
    {CAT_STEP_ACCEPT, '*', ANY, 120, NAT}, {CAT_STEP_FILE, '*', ANY, 30, NAT},                     \
        {CAT_STEP_FILE, '*', URG, 10, NAT}, {CAT_STEP_DISPATCH, '*', ANY, 30, NAT},                \
        {CAT_STEP_DISPATCH, '*', URG, 10, NAT},                                                    \
    {                                                                                              \
        CAT_STEP_VERIFY, '*', ANY, 1, WDAY                                                         \
    }
static const cat_limit_row d_general[] = {
    DEMAND_COMMON,
    {H, '*', ANY, 7 * 24 * 60, NAT},
    {H, '*', URG, 120, NAT},
    END,
};
static const cat_limit_row d_help[] = {
    DEMAND_COMMON,
    {H, '*', ANY, 24 * 60, NAT},
    {H, '*', URG, 120, NAT},
    END,
};
static const cat_limit_row d_complex[] = {
    DEMAND_COMMON,
    {H, '*', ANY, 15 * 24 * 60, NAT},
    END,
};

static const struct demo_major {
    const char *code, *name, *ref;
} majors[] = {
    {"C01", "公用设施", "CJ/T 214-2007"}, {"C02", "道路交通", "CJ/T 214-2007"},
    {"C03", "市容环境", "CJ/T 214-2007"}, {"C04", "园林绿化", "CJ/T 214-2007"},
    {"E01", "市容环境", "CJ/T 214-2007"}, {"E02", "宣传广告", "CJ/T 214-2007"},
    {"E03", "施工管理", "CJ/T 214-2007"}, {"E04", "街面秩序", "CJ/T 214-2007"},
    {"E05", "突发事件", "CJ/T 214-2007"}, {"E06", "扩展事件", "local"},
};

#define COVER_FILING  "井盖丢失、破损、移位，或与路面高差超过2厘米"
#define COVER_CLOSING "井盖补齐或更换、复位，与路面平顺，警示设施撤除"

static const struct demo_leaf {
    const char *code, *name, *ref, *dept, *filing, *closing;
    const cat_limit_row *limits; /* NULL: the major class's */
} leaves[] = {
    /* 部件 公用设施 */
    {"C0101", "上水井盖", "CJ/T 214-2007", "水务", COVER_FILING, COVER_CLOSING, p_cover},
    {"C0102", "污水井盖", "CJ/T 214-2007", "水务", COVER_FILING, COVER_CLOSING, p_sewer_cover},
    {"C0103", "雨水井盖", "CJ/T 214-2007", "水务", COVER_FILING, COVER_CLOSING, p_cover},
    {"C0104", "雨水箅子", "CJ/T 214-2007", "水务", "雨水箅子丢失、破损、移位或堵塞",
     "箅子补齐或更换、复位，清掏通畅", p_cover},
    {"C0105", "电力井盖", "CJ/T 214-2007", "供电", COVER_FILING, COVER_CLOSING, p_cover},
    {"C0106", "路灯井盖", "CJ/T 214-2007", "市政", COVER_FILING, COVER_CLOSING, p_cover},
    {"C0107", "通讯井盖", "CJ/T 214-2007", "市政", COVER_FILING, COVER_CLOSING, p_cover},
    {"C0110", "热力井盖", "CJ/T 214-2007", "市政", COVER_FILING, COVER_CLOSING, p_cover},
    {"C0111", "燃气井盖", "CJ/T 214-2007", "燃气", COVER_FILING, COVER_CLOSING, p_cover},
    {"C0113", "消防设施", "CJ/T 214-2007", "公安", "消火栓等消防设施损坏、缺失、漏水或被圈占遮挡",
     "修复或更换，恢复使用功能，遮挡清除", p_facility},
    {"C0114", "无主井盖", "CJ/T 214-2007", "市政", COVER_FILING, COVER_CLOSING, p_cover},
    {"C0116", "电力设施", "CJ/T 214-2007", "供电",
     "电力箱柜、线杆破损、倾斜、门锁缺失或带电部位裸露", "修复加固，门锁完好，无裸露带电部位",
     p_facility},
    {"C0118", "路灯", "CJ/T 214-2007", "市政",
     "连续3盏及以上路灯不亮，或灯杆倾斜、灯具破损、检修门缺失",
     "路灯恢复正常照明，灯杆、灯具和检修门完好", p_light},
    {"C0121", "报刊亭", "CJ/T 214-2007", "城管", "报刊亭破损、污损，或废弃未拆除",
     "修复、清洗或拆除", NULL},
    {"C0126", "健身设施", "CJ/T 214-2007", "城管", "健身器材破损、松动或缺件，存在安全隐患",
     "维修或更换，安装牢固，可安全使用", p_facility},
    /* 部件 道路交通 */
    {"C0201", "停车场", "CJ/T 214-2007", "交通", "停车场设施破损、标线不清或出入口堵塞",
     "设施修复，标线清晰，出入口通畅", NULL},
    {"C0203", "公交站亭", "CJ/T 214-2007", "交通", "站亭顶棚、座椅或站牌破损、污损",
     "修复、更换或清洗，完好整洁", p_facility},
    {"C0205", "过街天桥", "CJ/T 214-2007", "市政", "天桥栏杆、台阶、桥面破损或照明不亮",
     "修复完好，照明正常", p_facility},
    {"C0206", "地下通道", "CJ/T 214-2007", "市政", "通道积水、照明不亮、墙面破损或设施缺失",
     "积水排除，照明正常，设施完好", p_facility},
    {"C0209", "交通标志牌", "CJ/T 214-2007", "公安", "标志牌缺失、倾斜、被遮挡、污损或内容错误",
     "补齐、扶正、清除遮挡或更换，清晰可辨", p_traffic},
    {"C0210", "交通信号灯", "CJ/T 214-2007", "公安", "信号灯不亮、故障、损坏或显示异常",
     "恢复正常显示和运行", p_traffic},
    {"C0211", "交通护栏", "CJ/T 214-2007", "交通", "护栏缺失、倾斜、断裂或变形",
     "补齐、扶正或更换，连续完好", p_traffic},
    {"C0213", "路名牌", "CJ/T 214-2007", "市政", "路名牌缺失、破损、倾斜或字迹不清",
     "补齐、修复或更换，清晰端正", NULL},
    /* 部件 市容环境 */
    {"C0301", "公共厕所", "CJ/T 214-2007", "市政", "公厕设施损坏、脏乱、异味严重或未按时开放",
     "设施修复，保洁达标，按时开放", p_facility},
    {"C0304", "垃圾间(楼)", "CJ/T 214-2007", "市政", "垃圾间破损、垃圾外溢或异味严重",
     "修复，清运完毕，周边整洁", p_clean},
    {"C0305", "垃圾箱", "CJ/T 214-2007", "市政", "垃圾箱破损、缺失、满溢或脏污",
     "修复、补齐或更换，清运清洗完毕", p_clean},
    {"C0307", "广告牌匾", "CJ/T 214-2007", "城管", "牌匾破损、有脱落隐患、字体残缺或照明不全",
     "修复、加固或拆除，完好整洁", p_facility},
    /* 部件 园林绿化 */
    {"C0401", "古树名木", "CJ/T 214-2007", "园林绿化",
     "古树名木长势衰弱、遭受损伤、有病虫害或保护设施损坏",
     "专业养护复壮，损伤处理完毕，保护设施修复", p_green},
    {"C0402", "行道树", "CJ/T 214-2007", "园林绿化", "行道树倒伏、断枝、枯死、缺株或影响通行",
     "扶正、修剪、清理或补植，无安全隐患", p_green},
    {"C0405", "绿地", "CJ/T 214-2007", "园林绿化", "绿地斑秃、黄土裸露、杂草丛生或被踩踏损毁",
     "补植、覆盖或清理，绿化景观恢复", p_green},
    {"C0407", "街头坐椅", "CJ/T 214-2007", "园林绿化", "坐椅破损、缺失、松动或污损",
     "修复、补齐或更换，牢固整洁", p_green},
    /* 事件 市容环境 */
    {"E0101", "私搭乱建", "CJ/T 214-2007", "城管",
     "在道路、广场、绿地等公共区域或建筑物外擅自搭建建筑物、构筑物", "违建拆除，场地清理恢复",
     p_build},
    {"E0107", "沿街晾挂", "CJ/T 214-2007", "城管",
     "在沿街阳台外、窗外、护栏、树木等处晾晒、吊挂衣物杂物", "晾挂物清除", p_street},
    {"E0110", "暴露垃圾", "CJ/T 214-2007", "市政", "公共区域有暴露的生活垃圾、袋装垃圾或垃圾散落",
     "垃圾清除，地面洁净", p_clean},
    {"E0111", "积存垃圾渣土", "CJ/T 214-2007", "市政", "公共区域积存垃圾、渣土未及时清运",
     "清运完毕，地面洁净", p_pile},
    {"E0112", "道路不洁", "CJ/T 214-2007", "市政", "道路、人行道有明显污渍、杂物、积土或油污",
     "清扫冲洗完毕，路面洁净", p_clean},
    {"E0136", "乱堆物堆料", "CJ/T 214-2007", "城管",
     "在道路、广场或绿地等公共区域乱堆乱放物料、杂物", "堆物清理，场地恢复", p_pile},
    /* 事件 宣传广告 */
    {"E0201", "非法小广告", "CJ/T 214-2007", "城管", "在建筑物、设施、树木上张贴、涂写、刻画小广告",
     "小广告清除，无明显痕迹", p_pile},
    {"E0203", "违规户外广告", "CJ/T 214-2007", "城管",
     "未经审批或超期、超面积设置户外广告，或广告设施破损存在隐患", "违规广告拆除或整改到位",
     p_build},
    /* 事件 施工管理 */
    {"E0311", "渣土车未密闭运输", "CJ/T 214-2007", "城管", "渣土运输车辆未密闭、遗撒或带泥上路",
     "车辆密闭运输，遗撒清理完毕", p_muck},
    /* 事件 街面秩序 */
    {"E0401", "无照经营游商", "CJ/T 214-2007", "城管", "流动摊贩在道路、广场等公共区域无照经营",
     "经营行为消失，场地整洁", p_street},
    {"E0405", "店外经营", "CJ/T 214-2007", "城管", "沿街商户超出门窗、外墙摆卖或经营",
     "经营活动退回店内，门前整洁", p_street},
    {"E0406", "占道经营", "CJ/T 214-2007", "城管", "占用道路、桥梁、人行过街设施等公共场所摆摊设点",
     "占道物品清除，通行恢复", p_street},
    {"E0409", "机动车乱停放", "CJ/T 214-2007", "公安",
     "机动车在人行道、绿地、消防通道等禁停区域停放", "车辆驶离或移走，通行恢复", p_parking},
    {"E0410", "非机动车乱停放", "CJ/T 214-2007", "城管",
     "非机动车、共享单车在规定区域外乱停乱放，影响通行", "车辆清理归位，通行顺畅", p_parking},
    {"E0412", "露天烧烤", "local", "城管", "在露天场所无证经营烧烤或在禁止区域烧烤",
     "烧烤行为停止，设施清理，场地整洁", p_barbecue},
    /* 事件 突发事件 */
    {"E0501", "路面塌陷", "local", "市政", "道路路面出现塌陷、坑洞，影响通行安全",
     "设置警示，路面修复，恢复通行", p_emergency},
    {"E0502", "自来水管破裂", "local", "水务", "供水管道破裂、跑水，或路面冒水",
     "关阀止水，管道修复，路面恢复", p_emergency},
    {"E0503", "燃气管道破裂", "local", "燃气", "燃气管道破裂、泄漏，或有明显燃气气味",
     "断气抢修，泄漏消除，检测合格", p_emergency},
    {"E0504", "下水道堵塞或破损", "local", "水务", "下水道堵塞、污水外溢或管道破损",
     "疏通或修复，污水排除，地面清理", p_emergency},
    {"E0505", "道路积水", "local", "水务", "降雨后道路积水，影响车辆、行人通行",
     "积水排除，通行恢复", p_emergency},
    /* 事件 扩展事件 */
    {"E0606", "公共设施损坏", "local", "市政", "公共设施遭人为或自然损坏，影响使用或存在安全隐患",
     "修复或更换，恢复使用功能", NULL},
    /* 12345 诉求类型 */
    {"D01", "咨询", "12345", NULL, "询问政策、办事流程或公共服务信息", "答复诉求人，解释清楚",
     d_general},
    {"D02", "求助", "12345", NULL, "遇到生活困难或水电气热等问题，请求帮助解决",
     "问题解决，或说明原因并向诉求人反馈", d_help},
    {"D03", "投诉", "12345", NULL, "认为自身合法权益受到侵害，要求处理",
     "依法处理，并向诉求人反馈结果", d_general},
    {"D04", "举报", "12345", NULL, "反映违法违规行为，要求查处", "依法核查处理，并向诉求人反馈",
     d_general},
    {"D05", "建议", "12345", NULL, "对政府工作和公共事务提出意见建议",
     "研究办理，采纳情况反馈诉求人", d_complex},
};

/* The State Council's schedules (国务院办公厅关于2025年/2026年部分节假日安排的
 * 通知): holiday ranges and adjusted workdays. */
static const struct demo_range {
    const char *from, *to;
    int kind;
    const char *name;
} days[] = {
    {"2025-01-01", "2025-01-01", CAL_HOLIDAY, "元旦"},
    {"2025-01-26", "2025-01-26", CAL_WORKDAY, "春节调休上班"},
    {"2025-01-28", "2025-02-04", CAL_HOLIDAY, "春节"},
    {"2025-02-08", "2025-02-08", CAL_WORKDAY, "春节调休上班"},
    {"2025-04-04", "2025-04-06", CAL_HOLIDAY, "清明节"},
    {"2025-04-27", "2025-04-27", CAL_WORKDAY, "劳动节调休上班"},
    {"2025-05-01", "2025-05-05", CAL_HOLIDAY, "劳动节"},
    {"2025-05-31", "2025-06-02", CAL_HOLIDAY, "端午节"},
    {"2025-09-28", "2025-09-28", CAL_WORKDAY, "国庆节调休上班"},
    {"2025-10-01", "2025-10-08", CAL_HOLIDAY, "国庆节、中秋节"},
    {"2025-10-11", "2025-10-11", CAL_WORKDAY, "国庆节调休上班"},
    {"2026-01-01", "2026-01-03", CAL_HOLIDAY, "元旦"},
    {"2026-01-04", "2026-01-04", CAL_WORKDAY, "元旦调休上班"},
    {"2026-02-14", "2026-02-14", CAL_WORKDAY, "春节调休上班"},
    {"2026-02-15", "2026-02-23", CAL_HOLIDAY, "春节"},
    {"2026-02-28", "2026-02-28", CAL_WORKDAY, "春节调休上班"},
    {"2026-04-04", "2026-04-06", CAL_HOLIDAY, "清明节"},
    {"2026-05-01", "2026-05-05", CAL_HOLIDAY, "劳动节"},
    {"2026-05-09", "2026-05-09", CAL_WORKDAY, "劳动节调休上班"},
    {"2026-06-19", "2026-06-21", CAL_HOLIDAY, "端午节"},
    {"2026-09-20", "2026-09-20", CAL_WORKDAY, "国庆节调休上班"},
    {"2026-09-25", "2026-09-27", CAL_HOLIDAY, "中秋节"},
    {"2026-10-01", "2026-10-07", CAL_HOLIDAY, "国庆节"},
    {"2026-10-10", "2026-10-10", CAL_WORKDAY, "国庆节调休上班"},
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static size_t rows_len(const cat_limit_row *rows)
{
    size_t n = 0;

    while (rows && rows[n].amount)
        n++;
    return n;
}

struct demo {
    int64_t dept[NELEMS(leaves)];
    long created;
};

/* Inserts a category unless its code exists (a deployment may have made it
 * by hand), and its limit rows with it. */
static int demo_category(db_conn *c, arena *a, const cat_input *in, const cat_limit_row *rows,
                         int64_t now, long *created, gr_err *err)
{
    cat_info have;
    int64_t id = 0;
    int rc = catalog_find_code(c, a, in->code, &have, err);

    if (rc != GR_ENOTFOUND)
        return rc;
    err_clear(err);
    rc = cat_insert(c, in, now, &id, err);
    if (!rc && rows)
        rc = cat_limits_write(c, id, rows, rows_len(rows), err);
    *created += !rc;
    return rc;
}

static int demo_fn(db_conn *c, void *arg, gr_err *err)
{
    struct demo *d = arg;
    arena *a = arena_new();
    int64_t now = time_now_ms();
    cat_input in;
    size_t i;
    int rc = 0;

    for (i = 0; !rc && i < NELEMS(majors); i++) {
        memset(&in, 0, sizeof(in));
        in.code = majors[i].code;
        in.name = majors[i].name;
        in.standard_ref = majors[i].ref;
        rc = demo_category(c, a, &in, major_rows, now, &d->created, err);
    }
    for (i = 0; !rc && i < NELEMS(leaves); i++) {
        memset(&in, 0, sizeof(in));
        in.code = leaves[i].code;
        in.name = leaves[i].name;
        in.standard_ref = leaves[i].ref;
        in.default_department_id = d->dept[i];
        in.filing_condition = leaves[i].filing;
        in.closing_condition = leaves[i].closing;
        rc = demo_category(c, a, &in, leaves[i].limits, now, &d->created, err);
    }
    if (!rc) {
        db_stmt *st = db_prepare(c,
                                 "INSERT INTO settings (key, value, updated_at) VALUES "
                                 "('demo.catalog', 'loaded', ?) ON CONFLICT (key) DO NOTHING",
                                 err);
        if (!st) {
            rc = GR_EINTERNAL;
        } else {
            db_bind_int(st, 1, now);
            rc = db_run(st, err);
            db_done(st);
        }
    }
    arena_free(a);
    return rc;
}

/* The date after y-m-d. */
static void next_date(int *y, int *m, int *d)
{
    char s[40];
    int a, b, c;

    snprintf(s, sizeof(s), "%04d-%02d-%02d", *y, *m, ++*d);
    if (calendar_date_parse(s, &a, &b, &c) == 0)
        return;
    *d = 1;
    if (++*m > 12) {
        *m = 1;
        ++*y;
    }
}

enum { DEMO_DAYS_MAX = 400 };

/* The days of the ranges, one row each. */
static cat_day *demo_days(arena *a, size_t *n)
{
    cat_day *v = arena_alloc(a, DEMO_DAYS_MAX * sizeof(*v));
    int y, m, dd;
    size_t i;

    *n = 0;
    for (i = 0; i < NELEMS(days); i++) {
        calendar_date_parse(days[i].from, &y, &m, &dd);
        do {
            snprintf(v[*n].date, sizeof(v[*n].date), "%04d-%02d-%02d", y, m, dd);
            v[*n].kind = days[i].kind;
            v[*n].name = days[i].name;
            next_date(&y, &m, &dd);
        } while (strcmp(v[(*n)++].date, days[i].to) != 0 && *n < DEMO_DAYS_MAX);
    }
    return v;
}

int catalog_demo_load(gr_ctx *ctx, gr_err *err)
{
    db_conn *c = db_reader(ctx->db);
    arena *a = arena_new();
    struct demo d;
    cat_import_stats st = {0, 0, 0, 0};
    int64_t loaded = 0, district = 0;
    cat_day *rows;
    size_t i, n;
    int rc;

    memset(&d, 0, sizeof(d));
    if (!c) {
        rc = err_set(err, GR_EUNAVAIL, "", "the database does not answer");
        goto out;
    }
    rc = db_query_int(c, "SELECT count(*) FROM settings WHERE key = 'demo.catalog'", 0, 0, &loaded,
                      err);
    if (rc || loaded)
        goto out;
    /* Departments by name at the demo district (org's demo made them). */
    rc = org_unit_find_code(c, DEMO_DISTRICT, &district, err);
    for (i = 0; !rc && i < NELEMS(leaves); i++)
        if (leaves[i].dept)
            rc = org_dept_find_name(c, district, leaves[i].dept, &d.dept[i], err);
    if (rc)
        goto out;
    rc = db_write(ctx->db, demo_fn, &d, err);
    if (rc)
        goto out;
    rows = demo_days(a, &n);
    rc = cat_days_import(ctx, rows, n, &st, err);
    if (!rc && ctx->catalog)
        rc = cat_calendar_refresh(ctx, c, err);
    if (!rc)
        log_msg(LOG_INFO, "catalog.demo",
                "demo catalogue: %ld categories, %zu calendar days (%ld new)", d.created, n,
                st.created);
out:
    arena_free(a);
    return rc;
}
