import { defineStore } from 'pinia';
import { i18n } from '../i18n.js';

// Elder mode and the language, remembered in localStorage. Elder mode is a
// class on <html>: the CSS makes text and targets larger and raises contrast.
const read = (k, d) => {
  try {
    return localStorage.getItem(k) ?? d;
  } catch {
    return d;
  }
};
const write = (k, v) => {
  try {
    localStorage.setItem(k, v);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
};

export const usePrefs = defineStore('prefs', {
  state: () => ({ elder: read('gr.elder', '0') === '1', locale: i18n.global.locale.value }),
  actions: {
    apply() {
      document.documentElement.classList.toggle('elder', this.elder);
      document.documentElement.lang = this.locale;
    },
    setElder(on) {
      this.elder = !!on;
      write('gr.elder', on ? '1' : '0');
      this.apply();
    },
    setLocale(l) {
      this.locale = l;
      i18n.global.locale.value = l;
      write('gr.locale', l);
      this.apply();
    },
  },
});
