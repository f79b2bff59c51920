/*
 * Customer 360 agent side panel, loaded by Genesys Cloud as an Interaction Widget (an iframe per
 * interaction). Plain script, no framework and no inline code: the page's Content-Security-Policy
 * allows only this file, its stylesheet and calls to this service.
 *
 * Address:  /widget?customerId=…   or ?phone=…   or ?gcConversationId=…
 *           (+ gcLangTag, gcUseDarkTheme; gcHostOrigin and gcTargetEnv are accepted and unused)
 * Fragment: #access_token=…  a bearer token for the /v1 API. Fragments never reach a server or its
 *           logs; the token is kept in sessionStorage and removed from the address bar at once.
 */
'use strict';

(function () {
  const TOKEN_KEY = 'c360.widget.accessToken';
  const REQUEST_TIMEOUT_MS = 10000;
  const SOURCE_LABELS = { salesforce: 'Salesforce', sap: 'SAP', servicenow: 'ServiceNow' };
  /** Which system each shown field comes from, to say why a value is missing. */
  const FIELD_SOURCE = { accountName: 'salesforce', loyaltyTier: 'salesforce', lastInteractionDate: 'salesforce', balance: 'sap', openTickets: 'servicenow' };

  const params = new URLSearchParams(window.location.search);
  const locale = pickLocale(param('gcLangTag'));
  const el = (id) => document.getElementById(id);
  let token = takeToken();
  const target = targetFrom();
  let generation = 0;

  if (param('gcUseDarkTheme') === 'true') document.documentElement.classList.add('dark');
  el('retry').addEventListener('click', () => void load());
  el('refresh').addEventListener('click', () => void load());
  void load();

  /** A URL parameter, ignoring empty values and template placeholders Genesys left unfilled ("{{…}}"). */
  function param(name) {
    const value = params.get(name);
    return value && !/^\{\{.*\}\}$/.test(value) ? value.trim() : null;
  }

  function takeToken() {
    const fromFragment = new URLSearchParams(window.location.hash.slice(1)).get('access_token');
    if (fromFragment) {
      try {
        sessionStorage.setItem(TOKEN_KEY, fromFragment);
      } catch {
        // storage blocked (privacy settings): the token lives in memory for this page only
      }
      history.replaceState(null, '', window.location.pathname + window.location.search);
      return fromFragment;
    }
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  }

  function targetFrom() {
    const customerId = param('customerId');
    if (customerId) return { path: '/v1/customers/' + encodeURIComponent(customerId), label: 'customer ' + customerId };
    const phone = param('phone');
    if (phone) return { path: '/v1/customers?phone=' + encodeURIComponent(phone), label: phone };
    const conversationId = param('gcConversationId');
    if (conversationId) return { path: '/v1/conversations/' + encodeURIComponent(conversationId) + '/customer', label: "this interaction's caller" };
    return null;
  }

  async function load() {
    const mine = ++generation;
    if (!target) return notice('invalid', 'No customer in the link', 'The panel address needs customerId, phone or gcConversationId.', false);
    if (!token) return notice('signin', 'Not signed in', 'Open this panel from Genesys Cloud: its link carries the sign-in.', false);
    busy('Loading customer…');
    let response;
    let body = null;
    try {
      response = await fetch(target.path, {
        headers: { authorization: 'Bearer ' + token, accept: 'application/json' },
        cache: 'no-store',
        credentials: 'omit',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      body = await response.json().catch(() => null);
    } catch {
      response = null;
    }
    if (mine !== generation) return; // a newer load (retry, refresh) has started
    const status = response ? response.status : 0;
    const message = errorText(body);
    if (status === 200 && body && typeof body.customerId === 'string') return render(body);
    if (status === 400) return notice('invalid', "This panel's link is not valid", message || 'The customer reference could not be read.', false);
    if (status === 401) {
      token = null;
      try {
        sessionStorage.removeItem(TOKEN_KEY);
      } catch {
        // nothing stored
      }
      return notice('signin', 'Sign-in expired', 'Reopen the interaction in Genesys Cloud to sign in again.', false);
    }
    if (status === 403) return notice('forbidden', 'Not allowed', 'This sign-in may not read customer data.', false);
    if (status === 404) return notice('not-found', 'No customer record', (message ? message + '. ' : '') + 'Treat the caller as new.', false);
    if (status === 429) return notice('unavailable', 'Customer data unavailable — continue without it', 'Too many requests right now. Try again in a moment.', true);
    return notice('unavailable', 'Customer data unavailable — continue without it', 'The customer systems did not answer in time. Handle the call as usual and try again in a moment.', true);
  }

  function errorText(body) {
    if (!body || typeof body !== 'object') return '';
    if (Array.isArray(body.details) && body.details.length > 0) return body.details.join('; ');
    return typeof body.message === 'string' ? body.message : '';
  }

  function busy(text) {
    el('panel').setAttribute('aria-busy', 'true');
    setStatus(text, 'info');
  }

  function setStatus(text, tone) {
    const status = el('status');
    status.textContent = text;
    status.dataset.tone = tone;
  }

  function notice(kind, title, text, canRetry) {
    el('panel').setAttribute('aria-busy', 'false');
    el('profile').hidden = true;
    const box = el('notice');
    box.dataset.state = kind;
    el('notice-title').textContent = title;
    el('notice-text').textContent = text;
    el('retry').hidden = !canRetry;
    box.hidden = false;
    setStatus(title, 'quiet'); // announced, not shown twice
  }

  function render(view) {
    el('notice').hidden = true;
    const name = view.accountName || 'Customer ' + view.customerId;
    el('customer-name').textContent = name;
    el('customer-id').textContent = view.customerId;
    const tier = el('tier');
    tier.textContent = view.loyaltyTier ? view.loyaltyTier + ' tier' : missing(view, 'loyaltyTier');
    tier.classList.toggle('missing', !view.loyaltyTier);

    fill('balance', view, view.balance === null ? null : () => money(view.balance, view.currency));
    fill('tickets', view, view.openTickets === null ? null : () => String(view.openTickets));
    fill('last-interaction', view, view.lastInteractionDate === null ? null : () => interaction(view.lastInteractionDate));

    const list = el('sources');
    list.replaceChildren(
      ...Object.entries(view.sources).map(([source, state]) => {
        const item = document.createElement('li');
        item.dataset.source = source;
        const label = document.createElement('span');
        label.className = 'source-name';
        label.textContent = SOURCE_LABELS[source] || source;
        item.append(label, badge(state));
        return item;
      }),
    );

    el('updated').textContent = 'Updated ' + new Intl.DateTimeFormat(locale, { timeStyle: 'medium' }).format(new Date(view.lastUpdated));
    el('profile').hidden = false;
    el('panel').setAttribute('aria-busy', 'false');
    const down = Object.entries(view.sources)
      .filter(([, s]) => s.status !== 'ok' && s.status !== 'disabled' && s.status !== 'not_found')
      .map(([source]) => SOURCE_LABELS[source] || source);
    if (down.length > 0) setStatus('Partial data: ' + down.join(', ') + ' not current. Check the badges below.', 'warn');
    else setStatus(name + ' loaded, all sources current.', 'ok');
  }

  /** Puts a value (an element or text) in a field, or says why there is none. */
  function fill(id, view, make) {
    const node = el(id);
    const field = node.dataset.field;
    if (make === null) {
      node.replaceChildren(missing(view, field));
      node.classList.add('missing');
      return;
    }
    node.classList.remove('missing');
    const value = make();
    node.replaceChildren(value);
  }

  function missing(view, field) {
    const source = FIELD_SOURCE[field];
    const state = view.sources[source];
    const label = SOURCE_LABELS[source] || source;
    if (!state) return 'Not available';
    if (state.status === 'not_found') return 'Not in ' + label;
    if (state.status === 'disabled') return label + ' not connected';
    if (state.status === 'ok' || state.status === 'stale') return 'Not recorded';
    return 'Unavailable (' + label + ')';
  }

  /** The balance in its currency (exact: the decimal string is formatted, not a float); the ISO code added where the symbol is ambiguous ($, kr, ¥). */
  function money(balance, currency) {
    if (!currency) return balance;
    let text;
    try {
      text = new Intl.NumberFormat(locale, { style: 'currency', currency }).format(balance);
    } catch {
      text = balance + ' ' + currency;
    }
    const wrap = document.createDocumentFragment();
    wrap.append(text);
    if (!text.includes(currency)) {
      const code = document.createElement('span');
      code.className = 'currency';
      code.textContent = ' ' + currency;
      wrap.append(code);
    }
    return wrap;
  }

  function interaction(isoDate) {
    const when = new Date(isoDate.length === 10 ? isoDate + 'T00:00:00Z' : isoDate);
    const time = document.createElement('time');
    time.dateTime = isoDate;
    time.textContent = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(when);
    const relative = document.createElement('span');
    relative.className = 'relative';
    relative.textContent = relativeTo(when);
    const wrap = document.createDocumentFragment();
    wrap.append(time, relative);
    return wrap;
  }

  function relativeTo(when) {
    const now = new Date();
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const days = Math.round((when.getTime() - today) / 86400000);
    const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    if (Math.abs(days) < 31) return format.format(days, 'day');
    if (Math.abs(days) < 365) return format.format(Math.round(days / 30.44), 'month');
    return format.format(Math.round(days / 365.25), 'year');
  }

  function badge(state) {
    const b = describe(state);
    const span = document.createElement('span');
    span.className = 'badge badge-' + b.kind;
    span.dataset.status = state.status;
    const icon = document.createElement('span');
    icon.className = 'icon';
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = b.icon;
    const text = document.createElement('span');
    text.className = 'badge-text';
    text.textContent = b.text;
    span.append(icon, text);
    if (state.reason) span.title = 'Reason: ' + state.reason.replace(/_/g, ' ');
    return span;
  }

  function describe(state) {
    switch (state.status) {
      case 'ok':
        return { kind: 'fresh', icon: '✓', text: 'Fresh' };
      case 'stale':
        return { kind: 'stale', icon: '◷', text: 'Stale · ' + age(state.ageMs) + ' old' };
      case 'timeout':
        return { kind: 'down', icon: '✕', text: 'Unavailable (timed out)' };
      case 'rate_limited':
        return { kind: 'down', icon: '✕', text: 'Unavailable (busy)' };
      case 'unavailable':
        return { kind: 'down', icon: '✕', text: 'Unavailable' };
      case 'not_found':
        return { kind: 'none', icon: '–', text: 'No record' };
      case 'disabled':
        return { kind: 'none', icon: '–', text: 'Not connected' };
      default:
        return { kind: 'down', icon: '?', text: 'Unknown' };
    }
  }

  function age(ms) {
    const seconds = Math.max(0, Math.round((typeof ms === 'number' ? ms : 0) / 1000));
    const [value, unit] =
      seconds < 60 ? [seconds, 'second'] : seconds < 3600 ? [Math.round(seconds / 60), 'minute'] : seconds < 172800 ? [Math.round(seconds / 3600), 'hour'] : [Math.round(seconds / 86400), 'day'];
    return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(value);
  }

  function pickLocale(tag) {
    for (const candidate of [tag, navigator.language, 'en-US']) {
      if (!candidate) continue;
      try {
        return Intl.getCanonicalLocales(candidate)[0];
      } catch {
        // not a language tag: try the next
      }
    }
    return 'en-US';
  }
})();
