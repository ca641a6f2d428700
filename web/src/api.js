// One fetch wrapper for the JSON API (docs/openapi.yaml). The session is the
// gr_session cookie; unsafe methods carry X-CSRF-Token (docs/auth.md).
// Failures become an ApiError: `fields` maps a field name to the server's
// reason (problem+json `errors`), `network` is true when no answer came.

let csrf = '';

export function setCsrf(token) {
  csrf = token || '';
}

export class ApiError extends Error {
  constructor(message, { status = 0, fields = {}, network = false, body = null } = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
    this.network = network;
    this.body = body;
  }
}

export async function api(method, path, body, { raw = false, contentType } = {}) {
  const headers = { Accept: 'application/json' };
  const opts = { method, headers, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrf) headers['X-CSRF-Token'] = csrf;
    if (raw) {
      headers['Content-Type'] = contentType || 'application/octet-stream';
      opts.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError('network', { network: true });
  }
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const fields = {};
    for (const e of (data && data.errors) || []) {
      if (e.field && !fields[e.field]) fields[e.field] = e.reason;
    }
    throw new ApiError((data && (data.detail || data.title)) || res.statusText, {
      status: res.status,
      fields,
      body: data,
    });
  }
  return data;
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b);

export function uploadMedia(file) {
  return api('POST', '/api/v1/media', file, { raw: true, contentType: file.type || 'image/jpeg' });
}

export function qs(params) {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') s.set(k, v);
  }
  const t = s.toString();
  return t ? `?${t}` : '';
}
