/*
 * Customer 360 agent side panel, loaded by Genesys Cloud as an Interaction Widget (an iframe per
 * interaction). Plain script, no framework and no inline code: the page's Content-Security-Policy
 * allows only this file, its stylesheet, calls to this service and (when it signs in) to the
 * Genesys login host's token endpoint.
 *
 * Address:  /widget?customerId=…   or ?phone=…   or ?gcConversationId=…
 *           (+ gcLangTag, gcUseDarkTheme; gcHostOrigin is checked against the sign-in region)
 * Sign-in:  when the service names a Genesys OAuth client (data-signin-* on <body>), the page signs
 *           the agent in itself with the Code Authorization grant and PKCE (RFC 7636): it keeps a
 *           random verifier and the panel's query in sessionStorage under a random state, goes to
 *           <login>/oauth/authorize, and on its way back (?code=…&state=…) puts the original address
 *           back, exchanges the code at <login>/oauth/token and sends that Genesys token to /v1.
 * Fragment: #access_token=…  a bearer token for the /v1 API (scripts, the sandbox). Fragments never
 *           reach a server or its logs; the token is kept in sessionStorage and removed from the
 *           address bar at once.
 */
'use strict';

(function () {
  const TOKEN_KEY = 'c360.widget.accessToken';
  const EXPIRES_KEY = 'c360.widget.tokenExpiresAt';
  /** A sign-in under way, one entry per state (several panels share one sessionStorage). */
  const SIGNIN_PREFIX = 'c360.widget.signin.';
  const SIGNIN_MAX_AGE_MS = 10 * 60 * 1000;
  const REQUEST_TIMEOUT_MS = 10000;
  const SOURCE_LABELS = { salesforce: 'Salesforce', sap: 'SAP', servicenow: 'ServiceNow' };
  /** Which system each shown field comes from, to say why a value is missing. */
  const FIELD_SOURCE = { accountName: 'salesforce', loyaltyTier: 'salesforce', lastInteractionDate: 'salesforce', balance: 'sap', openTickets: 'servicenow' };

  const el = (id) => document.getElementById(id);
  const signIn = signInSettings();
  let params = new URLSearchParams(window.location.search);
  let locale = 'en-US';
  let target = null;
  let token = null;
  let tokenExpiresAt = null;
  /** The token was just obtained by signing in and the service has not accepted it yet: a 401 then is final (no sign-in loop). */
  let unproven = false;
  let generation = 0;

  el('retry').addEventListener('click', () => void load());
  el('refresh').addEventListener('click', () => void load());
  void start();

  /** A fetch with a timeout, no cache and no cookies: { response, body } (response null when the network failed). */
  async function fetchJson(url, init) {
    try {
      const response = await fetch(url, { ...init, cache: 'no-store', credentials: 'omit', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      return { response, body: await response.json().catch(() => null) };
    } catch {
      return { response: null, body: null };
    }
  }

  async function start() {
    const returned = takeSignInReturn();
    params = new URLSearchParams(window.location.search);
    locale = pickLocale(param('gcLangTag'));
    target = targetFrom();
    // dark when Genesys says so or the system prefers it (one palette in the CSS, not two copies)
    const prefersDark = window.matchMedia('(prefers-color-scheme: dark)');
    const applyTheme = () => document.documentElement.classList.toggle('dark', param('gcUseDarkTheme') === 'true' || prefersDark.matches);
    applyTheme();
    prefersDark.addEventListener('change', applyTheme);
    takeToken();
    forgetStaleSignIns();
    if (returned && !(await finishSignIn(returned))) return;
    void load();
  }

  /** A URL parameter, ignoring empty values and template placeholders Genesys left unfilled ("{{…}}"). */
  function param(name) {
    const value = params.get(name);
    return value && !/^\{\{.*\}\}$/.test(value) ? value.trim() : null;
  }

  function signInSettings() {
    const data = document.body.dataset;
    const loginUrl = (data.signinLoginUrl || '').replace(/\/+$/, '');
    const clientId = data.signinClientId || '';
    return loginUrl && clientId ? { loginUrl, clientId } : null;
  }

  // ------------------------------------------------------------------ the token

  function takeToken() {
    const fromFragment = new URLSearchParams(window.location.hash.slice(1)).get('access_token');
    if (fromFragment) {
      keepToken(fromFragment, null);
      history.replaceState(null, '', window.location.pathname + window.location.search);
      return;
    }
    token = stored(TOKEN_KEY);
    const expires = Number(stored(EXPIRES_KEY));
    tokenExpiresAt = expires > 0 ? expires : null;
  }

  function keepToken(value, expiresAt) {
    token = value;
    tokenExpiresAt = expiresAt;
    store(TOKEN_KEY, value);
    if (expiresAt) store(EXPIRES_KEY, String(expiresAt));
    else unstore(EXPIRES_KEY);
  }

  function forgetToken() {
    token = null;
    tokenExpiresAt = null;
    for (const key of [TOKEN_KEY, EXPIRES_KEY]) unstore(key);
  }

  // ------------------------------------------------------------------ signing in (PKCE)

  /** The address Genesys sends the agent back to: this page without its query (registered as the OAuth client's redirect URI). */
  function redirectUri() {
    return window.location.origin + window.location.pathname;
  }

  async function beginSignIn() {
    busy('Signing in to Genesys Cloud…');
    const region = regionMismatch();
    if (region) return notice('signin', 'Wrong Genesys Cloud region', 'This panel signs in at login.' + region.login + ' but was opened from the desktop of ' + region.desktop + '. Ask your administrator to check its region.', false);
    if (!window.crypto || !crypto.subtle) return notice('signin', 'Cannot sign in here', 'This page needs a secure (HTTPS) address to sign in.', false);
    const verifier = randomText(48);
    const state = randomText(16);
    const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const redirect = redirectUri();
    if (!store(SIGNIN_PREFIX + state, JSON.stringify({ verifier, search: window.location.search, redirectUri: redirect, at: Date.now() }))) {
      return notice('signin', 'Cannot sign in here', 'The browser blocks the storage the sign-in needs. Allow site data for this address.', false);
    }
    const query = new URLSearchParams({ client_id: signIn.clientId, response_type: 'code', redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', state });
    window.location.assign(signIn.loginUrl + '/oauth/authorize?' + query.toString());
  }

  /**
   * Back from the login host (?code=…&state=… or ?error=…&state=…): takes the sign-in saved under
   * that state (an unknown state has none) and puts the panel's original address back, so the
   * code never stays in the address bar or history.
   */
  function takeSignInReturn() {
    const query = new URLSearchParams(window.location.search);
    const state = query.get('state');
    if (!signIn || !state || !(query.has('code') || query.has('error'))) return null;
    let saved;
    try {
      saved = JSON.parse(stored(SIGNIN_PREFIX + state) || 'null');
    } catch {
      saved = null;
    }
    unstore(SIGNIN_PREFIX + state);
    history.replaceState(null, '', window.location.pathname + (saved && typeof saved.search === 'string' ? saved.search : ''));
    return { code: query.get('code'), error: query.get('error'), saved };
  }

  async function finishSignIn(returned) {
    const saved = returned.saved;
    if (!saved || typeof saved.verifier !== 'string' || Date.now() - saved.at > SIGNIN_MAX_AGE_MS) {
      return signInFailed('This sign-in was not started by this panel, or took too long.');
    }
    if (returned.error || !returned.code) return signInFailed('Genesys Cloud did not sign you in (' + (returned.error || 'no code') + ').');
    busy('Signing in to Genesys Cloud…');
    const { response, body } = await fetchJson(signIn.loginUrl + '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: returned.code, redirect_uri: saved.redirectUri || redirectUri(), client_id: signIn.clientId, code_verifier: saved.verifier }).toString(),
    });
    if (!response || !response.ok || !body || typeof body.access_token !== 'string') return signInFailed('Genesys Cloud did not complete the sign-in.');
    keepToken(body.access_token, typeof body.expires_in === 'number' ? Date.now() + body.expires_in * 1000 : null);
    unproven = true;
    return true;
  }

  function signInFailed(text) {
    notice('signin', 'Sign-in failed', text + ' Try again, or reopen the interaction.', true);
    return false;
  }

  /** The desktop's region (gcHostOrigin https://apps.<region>) against the login host's (https://login.<region>), when both are known. */
  function regionMismatch() {
    const desktop = /^https:\/\/apps\.([a-z0-9.-]+)$/.exec(param('gcHostOrigin') || '');
    const login = /^https:\/\/login\.([a-z0-9.-]+)$/.exec(signIn.loginUrl);
    return desktop && login && desktop[1] !== login[1] ? { desktop: desktop[1], login: login[1] } : null;
  }

  function forgetStaleSignIns() {
    try {
      for (let i = sessionStorage.length - 1; i >= 0; i--) {
        const key = sessionStorage.key(i);
        if (!key || !key.startsWith(SIGNIN_PREFIX)) continue;
        const at = Number((JSON.parse(sessionStorage.getItem(key) || '{}') || {}).at);
        if (!(Date.now() - at <= SIGNIN_MAX_AGE_MS)) sessionStorage.removeItem(key);
      }
    } catch {
      // storage blocked or an entry unreadable: nothing to tidy
    }
  }

  function randomText(bytes) {
    return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
  }

  function base64url(data) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // ------------------------------------------------------------------ storage (may be blocked: the page then works for this load only)

  function stored(key) {
    try {
      return sessionStorage.getItem(key);
    } catch {
      return null;
    }
  }

  function store(key, value) {
    try {
      sessionStorage.setItem(key, value);
      return true;
    } catch {
      return false;
    }
  }

  function unstore(key) {
    try {
      sessionStorage.removeItem(key);
    } catch {
      // nothing stored
    }
  }

  // ------------------------------------------------------------------ the customer

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
    if (token && tokenExpiresAt && tokenExpiresAt <= Date.now()) forgetToken();
    if (!token) {
      if (signIn) return beginSignIn();
      return notice('signin', 'Not signed in', 'Open this panel from Genesys Cloud: its link carries the sign-in.', false);
    }
    busy('Loading customer…');
    const { response, body } = await fetchJson(target.path, { headers: { authorization: 'Bearer ' + token, accept: 'application/json' } });
    if (mine !== generation) return; // a newer load (retry, refresh) has started
    const status = response ? response.status : 0;
    const message = errorText(body);
    if (status === 401) {
      const wasUnproven = unproven;
      forgetToken();
      // a kept token that stopped working is replaced once; one just signed in for is not (no loop)
      if (signIn && !wasUnproven) return beginSignIn();
      unproven = false;
      if (signIn) return notice('signin', 'Sign-in not accepted', 'This service did not accept your Genesys Cloud sign-in. Try again, or ask your administrator.', true);
      return notice('signin', 'Sign-in expired', 'Reopen the interaction in Genesys Cloud to sign in again.', false);
    }
    if (status !== 0 && status !== 503) unproven = false;
    if (status === 200 && body && typeof body.customerId === 'string') return render(body);
    if (status === 400) return notice('invalid', "This panel's link is not valid", message || 'The customer reference could not be read.', false);
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

    const balances = Array.isArray(view.balances) ? view.balances : [];
    fill('balance', view, view.balance === null && balances.length < 2 ? null : () => (balances.length < 2 ? money(view.balance, view.currency) : perCurrency(balances)));
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

  /** Open items in several currencies: one line per currency (never added together). */
  function perCurrency(balances) {
    const list = document.createElement('ul');
    list.className = 'balances';
    for (const b of balances) {
      const line = document.createElement('li');
      line.dataset.currency = b.currency;
      line.append(money(b.amount, b.currency));
      list.append(line);
    }
    return list;
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
