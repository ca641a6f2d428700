import { defineStore } from 'pinia';
import { api, setCsrf } from '../api.js';

// The signed-in user, read once from /auth/me (a reloaded page keeps its
// session cookie) and replaced on login and logout.
export const useSession = defineStore('session', {
  state: () => ({ user: null, loaded: false, pending: null }),
  getters: {
    role: (s) => (s.user ? s.user.role : null),
    isStaff: (s) => !!s.user && s.user.role !== 'resident',
  },
  actions: {
    load(force = false) {
      if (this.loaded && !force) return Promise.resolve(this.user);
      // Pages and the layout ask at once on a fresh load: one request serves all.
      if (!this.pending || force) this.pending = this.fetchMe().finally(() => (this.pending = null));
      return this.pending;
    },
    async fetchMe() {
      try {
        const me = await api('GET', '/api/v1/auth/me');
        this.user = me.user;
        setCsrf(me.csrf_token);
      } catch (e) {
        if (e.network) throw e;
        this.user = null;
        setCsrf('');
      }
      this.loaded = true;
      return this.user;
    },
    async login(username, password) {
      const r = await api('POST', '/api/v1/auth/login', { username, password });
      this.user = r.user;
      this.loaded = true;
      setCsrf(r.csrf_token);
      return r.user;
    },
    async logout() {
      try {
        await api('POST', '/api/v1/auth/logout', {});
      } finally {
        this.user = null;
        setCsrf('');
      }
    },
  },
});
