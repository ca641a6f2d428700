import { createApp } from 'vue';
import { createPinia } from 'pinia';
import { createRouter, createWebHashHistory } from 'vue-router';
import { i18n } from './i18n.js';
import { usePrefs } from './stores/prefs.js';
import './base.css';

// Both apps start the same way. Hash history: the C server serves files and
// has no fallback to index.html for unknown paths, so the route lives after #.
// Vant draws some controls as <div role="button|radio|checkbox|switch"
// tabindex="0"> that answer clicks only: Enter and Space press them too.
const KEY_ROLES = new Set(['button', 'radio', 'checkbox', 'switch']);
function pressWithKeys(ev) {
  const el = ev.target;
  if ((ev.key !== 'Enter' && ev.key !== ' ') || !(el instanceof HTMLElement)) return;
  if (!KEY_ROLES.has(el.getAttribute('role')) || /^(BUTTON|A|INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) return;
  ev.preventDefault();
  el.click();
}

// Vant's icons are glyphs of an icon font in ::before, which screen readers
// read into the name of the control around them ("满意" would be "\ue728满意"):
// hide every decorative icon (one without a role of its own) from them.
function hideIcons(node) {
  if (!(node instanceof Element)) return;
  const icons = node.matches('.van-icon') ? [node] : node.querySelectorAll('.van-icon');
  for (const i of icons) if (!i.hasAttribute('role') && !i.hasAttribute('aria-hidden')) i.setAttribute('aria-hidden', 'true');
}

export function boot(root, routes) {
  document.addEventListener('keydown', pressWithKeys);
  new MutationObserver((list) => list.forEach((m) => m.addedNodes.forEach(hideIcons))).observe(document.body, { childList: true, subtree: true });
  const app = createApp(root);
  app.use(createPinia());
  app.use(i18n);
  app.use(createRouter({ history: createWebHashHistory(), routes }));
  usePrefs().apply();
  app.mount('#app');
}
