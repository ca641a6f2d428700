import { createI18n } from 'vue-i18n';

// zh-CN by default, en on request. Keys under `elder` are the plainer wording
// used in elder mode (tt() in util.js falls back to the ordinary key). The
// console's own texts are in console/messages.js, merged by its entry, so
// that the resident pages do not download them.
const zh = {
  app: { name: '基层治理', resident: '居民服务', console: '工作台' },
  common: {
    submit: '提交', cancel: '取消', back: '返回', next: '下一步', prev: '上一步', save: '保存',
    loading: '加载中…', retry: '重试', none: '暂无', signIn: '登录', signOut: '退出登录',
    username: '用户名', password: '密码', language: '语言', elder: '长辈模式', required: '必填',
    network: '网络连接失败，请检查网络后重试。已填写的内容已保留。', error: '出错了', ok: '确定',
    refresh: '刷新', search: '搜索', view: '查看', detail: '详情',
  },
  home: {
    title: '有事您说话', lead: '发现身边的问题？拍张照片告诉我们，我们负责办好。',
    report: '我要反映问题', mine: '我的诉求', track: '查询办理进度', trackCode: '诉求编号',
    trackHint: '如 GR261127000001', staff: '工作人员入口', signedInAs: '已登录：{name}',
  },
  report: {
    title: '反映问题', category: '问题类别', pickCategory: '选择类别', searchCategory: '搜索类别',
    dontKnow: '我不知道，请工作人员分类', heading: '标题', headingPh: '一句话说明问题',
    description: '问题描述', descriptionPh: '说说发生了什么、在哪里、持续多久',
    photos: '照片', addPhoto: '拍照或从相册选择', location: '位置', useGps: '使用我的位置',
    gpsFailed: '无法获取位置，请在地图上点选或填写地址', address: '地址', addressPh: '如：建外街道南郎家园3号楼',
    mapHint: '点击地图或拖动图钉调整位置', located: '所在网格：{grid}', contact: '手机号',
    contactPh: '11位手机号，便于回访', anonymousHint: '未登录也可反映，请留下手机号；或先登录。',
    public: '公开此诉求（不显示您的个人信息）', hideName: '对办理人员隐藏我的身份',
    duplicates: '附近已有这些诉求，是同一个问题吗？', sameOne: '是这个', notSame: '都不是，继续提交',
    checking: '正在查找附近的诉求…', done: '提交成功', code: '诉求编号：{code}', follow: '查看进度',
    joined: '已并入诉求 {code}，办理进度会通知您。', uploading: '正在上传照片…', noPlace: '请选择位置或填写地址',
    step: '第 {n} 步，共 {total} 步',
  },
  mine: { title: '我的诉求', empty: '您还没有反映过问题', signInFirst: '登录后可查看您的诉求' },
  case: {
    timeline: '办理过程', addInfo: '补充信息', addInfoPh: '补充说明', rate: '评价', rated: '您的评价：{r}',
    rating: { satisfied: '满意', basically_satisfied: '基本满意', unsatisfied: '不满意' },
    resolvedQ: '问题解决了吗？', resolvedYes: '已解决', resolvedNo: '没有解决',
    mergedInto: '这条诉求已并入另一条同样的诉求，一并办理。', followMerged: '查看办理进度',
    comment: '评价说明', confirm: '确认已解决', notFound: '没有找到这个诉求（只显示公开的诉求）',
    state: '状态', created: '反映时间', category: '类别', media: '照片', location: '位置',
  },
  login: { title: '登录', failed: '用户名或密码错误', staffTitle: '工作人员登录' },
  state: {
    reported: '待受理', accepted: '已受理', rejected: '不予受理', filed: '已立案', dispatched: '已派遣',
    signed: '已签收', rework: '返工', handled: '已处置', returned: '已退单', disputed: '争议',
    backlog: '挂账', verified: '已核查', closed: '已结案', review: '不满意复核', cancelled: '已作废',
    merged: '已合并',
  },
  action: {
    report: '上报', accept: '受理', reject: '不予受理', file: '立案', dispatch: '派遣', sign: '签收',
    handle: '处置', return: '退单', escalate: '提交争议', decide: '会商决定', extend: '申请延期',
    'approve-extension': '批准延期', 'deny-extension': '驳回延期', backlog: '挂账', unbacklog: '解除挂账',
    verify: '核查', confirm: '确认解决', close: '结案', cancel: '作废', merge: '合并', supervise: '督办',
    review: '复核', info: '补充信息', respond: '已联系诉求人', rate: '评价',
  },
  channel: { web: '网上', inspector: '网格员', hotline: '热线', counter: '窗口', open311: 'Open311', sensor: '感知设备' },
  roles: {
    resident: '居民', grid_inspector: '网格员', acceptor: '受理员', dispatcher: '派遣员', shift_leader: '值班长',
    department_staff: '处置人员', community_worker: '社区工作者', data_steward: '数据管理员', leader: '领导',
    auditor: '审计员', admin: '管理员',
  },
  elder: {
    home: { lead: '看到问题，拍个照，告诉我们。' },
    report: {
      description: '出了什么事', descriptionPh: '比如：楼下路灯坏了', heading: '一句话说说', photos: '拍照片',
      location: '在哪里', contact: '您的手机号',
    },
  },
};

const en = {
  app: { name: 'Grassroots', resident: 'Resident services', console: 'Staff console' },
  common: {
    submit: 'Submit', cancel: 'Cancel', back: 'Back', next: 'Next', prev: 'Previous', save: 'Save',
    loading: 'Loading…', retry: 'Retry', none: 'None', signIn: 'Sign in', signOut: 'Sign out',
    username: 'Username', password: 'Password', language: 'Language', elder: 'Elder mode', required: 'required',
    network: 'The network failed. Check the connection and try again; what you typed is kept.', error: 'Error',
    ok: 'OK', refresh: 'Refresh', search: 'Search', view: 'View', detail: 'Details',
  },
  home: {
    title: 'Tell us', lead: 'Found a problem nearby? Take a photo and tell us; we will get it fixed.',
    report: 'Report a problem', mine: 'My reports', track: 'Track a report', trackCode: 'Report code',
    trackHint: 'e.g. GR261127000001', staff: 'Staff sign-in', signedInAs: 'Signed in as {name}',
  },
  report: {
    title: 'Report a problem', category: 'Category', pickCategory: 'Choose a category', searchCategory: 'Search categories',
    dontKnow: "I don't know: staff will classify it", heading: 'Title', headingPh: 'The problem in one line',
    description: 'Description', descriptionPh: 'What happened, where, and for how long',
    photos: 'Photos', addPhoto: 'Take a photo or choose one', location: 'Location', useGps: 'Use my location',
    gpsFailed: 'Could not get your location: tap the map or type an address', address: 'Address',
    addressPh: 'e.g. Building 3, Nanlang Jiayuan', mapHint: 'Tap the map or drag the pin to adjust',
    located: 'Grid: {grid}', contact: 'Mobile phone', contactPh: '11-digit mobile number, for a call back',
    anonymousHint: 'You may report without signing in: leave a phone number, or sign in first.',
    public: 'Make this report public (your personal data is never shown)', hideName: 'Hide my identity from the staff handling it',
    duplicates: 'These reports are nearby. Is it one of them?', sameOne: 'It is this one', notSame: 'None of these: submit',
    checking: 'Looking for reports nearby…', done: 'Submitted', code: 'Report code: {code}', follow: 'Follow it',
    joined: 'Joined report {code}; you will be told of its progress.', uploading: 'Uploading photos…',
    noPlace: 'Choose a location or type an address', step: 'Step {n} of {total}',
  },
  mine: { title: 'My reports', empty: 'You have not reported anything yet', signInFirst: 'Sign in to see your reports' },
  case: {
    timeline: 'Progress', addInfo: 'Add information', addInfoPh: 'More details', rate: 'Rate', rated: 'Your rating: {r}',
    rating: { satisfied: 'Satisfied', basically_satisfied: 'Mostly satisfied', unsatisfied: 'Not satisfied' },
    resolvedQ: 'Is the problem solved?', resolvedYes: 'Solved', resolvedNo: 'Not solved',
    mergedInto: 'This report was joined to another report of the same problem; they are handled together.', followMerged: 'Follow its progress',
    comment: 'Comment', confirm: 'Confirm it is fixed', notFound: 'No such report (only public reports are shown)',
    state: 'State', created: 'Reported', category: 'Category', media: 'Photos', location: 'Location',
  },
  login: { title: 'Sign in', failed: 'Wrong username or password', staffTitle: 'Staff sign-in' },
  state: {
    reported: 'Reported', accepted: 'Accepted', rejected: 'Rejected', filed: 'Filed', dispatched: 'Dispatched',
    signed: 'Signed for', rework: 'Rework', handled: 'Handled', returned: 'Returned', disputed: 'Disputed',
    backlog: 'Backlog', verified: 'Verified', closed: 'Closed', review: 'Under review', cancelled: 'Cancelled',
    merged: 'Merged',
  },
  action: {
    report: 'Report', accept: 'Accept', reject: 'Reject', file: 'File', dispatch: 'Dispatch', sign: 'Sign for',
    handle: 'Handle', return: 'Return', escalate: 'Escalate', decide: 'Decide', extend: 'Request extension',
    'approve-extension': 'Approve extension', 'deny-extension': 'Deny extension', backlog: 'Backlog',
    unbacklog: 'Off backlog', verify: 'Verify', confirm: 'Confirm fixed', close: 'Close', cancel: 'Cancel case',
    merge: 'Merge', supervise: 'Supervise', review: 'Review', info: 'Add information',
    respond: 'Reporter contacted', rate: 'Rate',
  },
  channel: { web: 'Web', inspector: 'Inspector', hotline: 'Hotline', counter: 'Counter', open311: 'Open311', sensor: 'Sensor' },
  roles: {
    resident: 'Resident', grid_inspector: 'Grid inspector', acceptor: 'Acceptor', dispatcher: 'Dispatcher',
    shift_leader: 'Shift leader', department_staff: 'Department staff', community_worker: 'Community worker',
    data_steward: 'Data steward', leader: 'Leader', auditor: 'Auditor', admin: 'Admin',
  },
  elder: {
    home: { lead: 'See a problem? Take a photo. Tell us.' },
    report: {
      description: 'What is wrong', descriptionPh: 'For example: the street light is broken', heading: 'Say it in a few words',
      photos: 'Take a photo', location: 'Where is it', contact: 'Your phone number',
    },
  },
};

const saved = (() => {
  try {
    return localStorage.getItem('gr.locale');
  } catch {
    return null;
  }
})();

export const i18n = createI18n({
  legacy: false,
  locale: saved === 'en' ? 'en' : 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
});
