import { ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { usePrefs } from './stores/prefs.js';

// tt(key): the plainer elder-mode wording when elder mode is on and one exists.
export function useTt() {
  const { t, te } = useI18n();
  const prefs = usePrefs();
  return (key, args) => (prefs.elder && te(`elder.${key}`) ? t(`elder.${key}`, args || {}) : t(key, args || {}));
}

// Times are shown in Asia/Shanghai (DESIGN.md, "Time"), whatever the browser's zone.
export function fmtTime(iso, locale) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).format(new Date(iso));
}

export function fmtDuration(ms, locale) {
  const m = Math.round(Math.abs(ms) / 60000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const mm = m % 60;
  if (locale === 'en') return d ? `${d} d ${h} h` : h ? `${h} h ${mm} min` : `${mm} min`;
  return d ? `${d}天${h}小时` : h ? `${h}小时${mm}分` : `${mm}分钟`;
}

// The field errors of an ApiError, for :error-message / :error bindings.
export function fieldErrors(e) {
  return (e && e.fields) || {};
}

// One form's request (docs/web.md, "Bad input"): a second click while one is
// in flight sends nothing, the server's field errors land in errs for the
// fields to show, and a lost network says so while the form keeps what was
// typed. run(work, fail) answers work's result, or undefined when it failed;
// fail(e) may word a failure itself.
export function useSubmit() {
  const { t } = useI18n();
  const pending = ref(false);
  const message = ref('');
  const errs = ref({});
  async function run(work, fail) {
    if (pending.value) return undefined;
    pending.value = true;
    message.value = '';
    errs.value = {};
    try {
      return await work();
    } catch (e) {
      errs.value = fieldErrors(e);
      message.value = e.network ? t('common.network') : (fail && fail(e)) || e.message;
      return undefined;
    } finally {
      pending.value = false;
    }
  }
  return { pending, message, errs, run };
}
