// Local days (Asia/Shanghai, as the server counts them) as YYYY-MM-DD.
const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

export const today = () => fmt.format(new Date());

export function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

export const monthStart = (day) => `${day.slice(0, 8)}01`;

// The last `weeks` whole weeks up to and including `day`, oldest first.
export function weeks(day, n) {
  const out = [];
  for (let k = n - 1; k >= 0; k--) out.push({ from: addDays(day, -7 * k - 6), to: addDays(day, -7 * k) });
  return out;
}

// A rate (0..1) as a percentage with two decimals, or "—" when it has no denominator.
export const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(2)}%`);
export const score = (v) => (v === null || v === undefined ? '—' : (v * 100).toFixed(2));
