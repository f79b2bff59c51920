/**
 * Vendor date and time values → ISO 8601, the only forms the canonical schema carries:
 * a calendar date `YYYY-MM-DD`, or an instant in UTC `YYYY-MM-DDTHH:mm:ss.sssZ`.
 *
 * What each vendor sends (all strings):
 *   Salesforce Date       `2026-11-20`
 *   Salesforce DateTime   `2026-11-20T14:03:11.000+0000` (always UTC, offset without a colon)
 *   SAP Edm.DateTime      `/Date(1763647391000)/` (ms since 1970 UTC; a date field is UTC midnight)
 *   SAP Edm.DateTimeOffset `/Date(1763647391000+0530)/` (the ms are UTC; ±HHMM is the writer's offset)
 *   ServiceNow date/time  `2026-11-20 14:03:11` (UTC: the Table API's actual values, sysparm_display_value=false)
 *   ISO 8601              `2026-11-20T14:03:11Z`, `…+05:30`, with or without fractions or seconds
 *
 * Anything else (another type, an impossible date such as 2026-02-30, an offset beyond ±14:00)
 * gives `undefined`, never a half-converted string.
 */

/** A parsed value: the instant (UTC ms) and the offset it was written with; a date has no time. */
type Parsed = { kind: 'date'; date: string } | { kind: 'instant'; utcMs: number; offsetMinutes: number };

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** ISO 8601 with a designator (Z or an offset, with or without its colon), or ServiceNow's space-separated UTC form without one. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})| (\d{2}):(\d{2}):(\d{2}))$/;
const ODATA_V2 = /^\/Date\((-?\d{1,15})(?:([+-])(\d{2})(\d{2}))?\)\/$/;
const MAX_OFFSET_MINUTES = 14 * 60;
/** 0001-01-01 … 9999-12-31: what a four-digit ISO year can say. */
const RANGE = { min: Date.parse('0001-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59.999Z') };

/** The calendar date (`YYYY-MM-DD`) a vendor value names; an instant gives its date at the offset it was written with (UTC for every vendor here). */
export function isoDate(value: unknown): string | undefined {
  const parsed = parse(value);
  if (!parsed) return undefined;
  if (parsed.kind === 'date') return parsed.date;
  const local = parsed.utcMs + parsed.offsetMinutes * 60_000;
  return inRange(local) ? new Date(local).toISOString().slice(0, 10) : undefined;
}

/** The instant a vendor value names, in UTC (`…Z`); a bare date is not an instant and gives undefined. */
export function isoInstant(value: unknown): string | undefined {
  const parsed = parse(value);
  return parsed?.kind === 'instant' ? new Date(parsed.utcMs).toISOString() : undefined;
}

function parse(value: unknown): Parsed | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const text = value;
  let m = DATE_ONLY.exec(text);
  if (m) return validDate(+m[1], +m[2], +m[3]) ? { kind: 'date', date: text } : undefined;

  m = ODATA_V2.exec(text);
  if (m) {
    const utcMs = Number(m[1]);
    const offsetMinutes = m[2] === undefined ? 0 : offset(m[2], +m[3], +m[4]);
    return inRange(utcMs) && !Number.isNaN(offsetMinutes) ? { kind: 'instant', utcMs, offsetMinutes } : undefined;
  }

  m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const iso = m[4] !== undefined;
  const [year, month, day] = [+m[1], +m[2], +m[3]];
  const [hour, minute, second] = iso ? [+m[4], +m[5], m[6] === undefined ? 0 : +m[6]] : [+m[9], +m[10], +m[11]];
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = iso && m[7] !== undefined ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  // ServiceNow's space-separated form carries no designator: its actual values are UTC
  const zone = iso ? m[8] : 'Z';
  const offsetMinutes = zone === 'Z' ? 0 : offset(zone[0], +zone.slice(1, 3), +zone.slice(-2));
  if (Number.isNaN(offsetMinutes)) return undefined;
  const utcMs = utc(year, month, day, hour, minute, second, ms) - offsetMinutes * 60_000;
  return inRange(utcMs) ? { kind: 'instant', utcMs, offsetMinutes } : undefined;
}

function offset(sign: string, hours: number, minutes: number): number {
  const total = hours * 60 + minutes;
  if (minutes > 59 || total > MAX_OFFSET_MINUTES) return Number.NaN;
  return sign === '-' ? -total : total;
}

/** Date.UTC without its two-digit-year quirk (years 0–99 would land in 1900–1999). */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

function validDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const d = new Date(utc(year, month, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

function inRange(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= RANGE.min && ms <= RANGE.max;
}
