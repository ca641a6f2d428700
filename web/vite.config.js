// The front end: one Vite build into web/dist, served by the C server (--web).
// Components of Vant and Element Plus are imported on demand by the resolvers,
// each with its own CSS, so a route's chunk carries only the library it uses.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';
import { VantResolver } from '@vant/auto-import-resolver';

// Vant's icon font comes inlined as a data: URL with a fallback on a CDN. The
// server's CSP allows fonts from 'self' only, and residents' browsers should
// not call a third party: serve the same font as a file of our own instead.
function vantIconFont() {
  return {
    name: 'grassroots-vant-icon-font',
    enforce: 'pre',
    transform(code, id) {
      if (!/vant[\\/]es[\\/]icon[\\/]index\.css$/.test(id)) return null;
      const m = code.match(/url\(data:font\/woff2;charset=utf-8;base64,([A-Za-z0-9+/=]+)\) format\("woff2"\)(,url\([^)]*\) format\("woff"\))?/);
      if (!m) return null;
      const font = fileURLToPath(new URL('node_modules/.grassroots/vant-icon.woff2', import.meta.url));
      mkdirSync(dirname(font), { recursive: true });
      writeFileSync(font, Buffer.from(m[1], 'base64'));
      return code.replace(m[0], `url(${relative(dirname(id), font).split(sep).join('/')}) format("woff2")`);
    },
  };
}

// CivetWeb sends FILE.gz in place of FILE to a browser that accepts gzip: write
// one next to every script and style sheet (a third of the bytes on the wire).
function gzipAssets() {
  return {
    name: 'grassroots-gzip-assets',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|svg)$/.test(name)) continue;
        const file = join(options.dir, name);
        writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  base: '/',
  plugins: [
    vantIconFont(),
    gzipAssets(),
    vue(),
    Components({
      dts: false,
      resolvers: [ElementPlusResolver({ importStyle: 'css' }), VantResolver()],
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: {
        h5: fileURLToPath(new URL('index.html', import.meta.url)),
        console: fileURLToPath(new URL('console/index.html', import.meta.url)),
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
