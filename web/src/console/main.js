import { boot } from '../boot.js';
import { i18n } from '../i18n.js';
import Layout from './Layout.vue';
import { en, zh } from './messages.js';

i18n.global.mergeLocaleMessage('zh-CN', zh);
i18n.global.mergeLocaleMessage('en', en);

// The staff console (Element Plus), its own entry at /console/.
boot(Layout, [
  { path: '/', name: 'queues', component: () => import('./Queues.vue') },
  { path: '/login', name: 'login', component: () => import('./Login.vue') },
  { path: '/cases/:id', name: 'case', component: () => import('./CaseDetail.vue') },
  { path: '/entry', name: 'entry', component: () => import('./Entry.vue') },
  { path: '/map', name: 'map', component: () => import('./MapView.vue') },
  { path: '/dashboard', name: 'dashboard', component: () => import('./dashboard/Dashboard.vue') },
  { path: '/admin/categories', name: 'admin-categories', component: () => import('./admin/Categories.vue') },
  { path: '/admin/routing', name: 'admin-routing', component: () => import('./admin/Routing.vue') },
  { path: '/admin/users', name: 'admin-users', component: () => import('./admin/Users.vue') },
  { path: '/admin/org', name: 'admin-org', component: () => import('./admin/OrgTree.vue') },
  { path: '/basedata', name: 'bd-people', component: () => import('./basedata/People.vue') },
  { path: '/basedata/people/:id', name: 'bd-person', component: () => import('./basedata/Person.vue') },
  { path: '/basedata/houses/:id', name: 'bd-house', meta: { kind: 'houses' }, component: () => import('./basedata/Place.vue') },
  { path: '/basedata/buildings/:id', name: 'bd-building', meta: { kind: 'buildings' }, component: () => import('./basedata/Place.vue') },
  { path: '/:rest(.*)*', redirect: '/' },
]);
