import { ref } from 'vue';
import { get } from '../api.js';

// Categories (leaves, flattened) and departments, read once per page load.
const categories = ref([]);
const departments = ref([]);
let loading = null;

export function useRefData() {
  if (!loading) {
    loading = Promise.all([
      get('/api/v1/categories').then((tree) => {
        const flat = [];
        for (const major of tree.items || []) {
          if (!(major.children || []).length && major.active !== false) flat.push({ id: major.id, label: major.name, name: major.name });
          for (const c of major.children || []) if (c.active !== false) flat.push({ id: c.id, label: `${major.name} / ${c.name}`, name: c.name });
        }
        categories.value = flat;
      }),
      get('/api/v1/org/departments?limit=100').then((r) => {
        departments.value = r.items || [];
      }),
    ]).catch(() => {
      loading = null;
    });
  }
  const categoryName = (id) => (categories.value.find((c) => c.id === id) || {}).label || (id ? `#${id}` : '—');
  const departmentName = (id) => (departments.value.find((d) => d.id === id) || {}).name || (id ? `#${id}` : '—');
  return { categories, departments, categoryName, departmentName };
}
