import { boot } from '../boot.js';
import H5Layout from './H5Layout.vue';
import Home from './Home.vue';

// The resident H5 (Vant). The home page comes with the entry (one round trip
// less on a slow network); every other page is its own chunk.
boot(H5Layout, [
  { path: '/', name: 'home', component: Home },
  { path: '/h5/report', name: 'report', component: () => import('./Report.vue') },
  { path: '/h5/login', name: 'login', component: () => import('./Login.vue') },
  { path: '/h5/cases', name: 'my-cases', component: () => import('./MyCases.vue') },
  { path: '/h5/cases/:id', name: 'my-case', component: () => import('./MyCase.vue') },
  { path: '/h5/public/:code', name: 'public-case', component: () => import('./PublicCase.vue') },
  { path: '/:rest(.*)*', redirect: '/' },
]);
