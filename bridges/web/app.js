// The operator's dashboard: one GET .../dashboard, then the live stream
// (server-sent events with a one-time ticket) for a new snapshot every
// metrics.dashboard_interval_s and for events as they happen. Everything
// shown is written with textContent: agents' findings and webhook types come
// from outside and are never parsed as HTML.
'use strict';

const P = '/api/v1/stream-b-coordination';
const TOPICS = ['dashboard', 'alert', 'cost_alert', 'budget', 'webhook', 'agent',
  'frontend_update', 'coordination', 'finding'];
const HISTORY_POINTS = 120; // 10 minutes at the default 5 s
const FEED_ITEMS = 100;
const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2',
  '#db2777', '#4b5563'];

const ui = {
  key: sessionStorage.getItem('streamb.key') || '',
  charts: {},
  lastWebhooks: null, // {at, received, rejected} of the previous snapshot
  alertFeed: [], // cost alerts, budget changes and alerts as they came
  source: null,
  retryMs: 1000,
  streamSnapshots: 0,
  doc: null,
};

// -- small helpers ------------------------------------------------------------

function $(id) { return document.getElementById(id); }

/// An element with text children only (never HTML).
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'data') Object.assign(e.dataset, v);
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, v);
  }
  for (const c of children)
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function num(x, digits) {
  return typeof x === 'number' && isFinite(x) ? x.toFixed(digits) : '–';
}
function usd(x) { return typeof x === 'number' ? '$' + x.toFixed(2) : '–'; }
function pct(x) { return typeof x === 'number' ? (100 * x).toFixed(2) + ' %' : '–'; }
function clock(iso) {
  const d = iso ? new Date(iso) : new Date();
  return isNaN(d) ? '' : d.toLocaleTimeString([], {hour12: false});
}

class http_error extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = {};
  if (ui.key) headers.Authorization = 'Bearer ' + ui.key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {method, headers,
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  if (!res.ok) {
    const msg = json && json.error ? json.error.message || json.error : text;
    throw new http_error(res.status, typeof msg === 'string' ? msg : res.statusText);
  }
  return json;
}

// -- the key ------------------------------------------------------------------

function askForKey(message) {
  $('main').classList.add('hidden');
  $('key-form').classList.remove('hidden');
  $('key-error').textContent = message || '';
  setLive(false, 'no key');
}

$('key-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  ui.key = $('key').value.trim();
  sessionStorage.setItem('streamb.key', ui.key);
  start();
});

// -- charts -------------------------------------------------------------------

function makeCharts() {
  if (typeof Chart === 'undefined') return; // the page still shows numbers
  Chart.defaults.animation = false;
  Chart.defaults.font.family = '"DejaVu Sans", system-ui, sans-serif';
  const common = {responsive: true, maintainAspectRatio: false,
    plugins: {legend: {labels: {boxWidth: 12}}}};
  // Services without calls stay out of the legend.
  const withData = (item, data) => data.datasets[item.datasetIndex].data.some((v) => v !== null);
  ui.charts.latency = new Chart($('latency-chart'), {type: 'line',
    data: {labels: [], datasets: []},
    options: {...common,
      plugins: {legend: {labels: {boxWidth: 12, filter: withData}}},
      scales: {y: {beginAtZero: true, title: {display: true, text: 'ms'}}}}});
  ui.charts.spend = new Chart($('spend-chart'), {type: 'bar',
    data: {labels: [], datasets: [
      {label: 'spent', data: [], backgroundColor: '#2563eb', order: 2},
      {label: 'forecast (low–high)', data: [], backgroundColor: 'rgba(217,119,6,.35)', order: 3},
      {label: 'budget', type: 'line', data: [], showLine: false, borderColor: '#dc2626',
        backgroundColor: '#dc2626', pointStyle: 'line', pointRadius: 18, pointBorderWidth: 3, order: 1},
    ]},
    options: {...common, scales: {x: {stacked: true}, y: {beginAtZero: true, title: {display: true, text: 'USD this month'}}}}});
  ui.charts.webhooks = new Chart($('webhook-chart'), {type: 'line',
    data: {labels: [], datasets: [
      {label: 'received', data: [], borderColor: '#059669', backgroundColor: '#059669'},
      {label: 'rejected', data: [], borderColor: '#dc2626', backgroundColor: '#dc2626'},
    ]},
    options: {...common, scales: {y: {beginAtZero: true, title: {display: true, text: 'per minute'}}}}});
}

function pushPoint(chart, label, values) {
  chart.data.labels.push(label);
  values.forEach((v, i) => chart.data.datasets[i].data.push(v));
  if (chart.data.labels.length > HISTORY_POINTS) {
    chart.data.labels.shift();
    chart.data.datasets.forEach((d) => d.data.shift());
  }
  chart.update();
}

function updateCharts(doc) {
  if (!ui.charts.latency) return;
  const names = Object.keys(doc.services || {});
  const at = clock(doc.generatedAt);
  // Latency: p95 solid, p99 dashed, one colour per service.
  const lat = ui.charts.latency;
  if (lat.data.datasets.length !== 2 * names.length) {
    lat.data.labels = [];
    lat.data.datasets = names.flatMap((n, i) => [
      {label: n + ' p95', data: [], borderColor: COLORS[i % COLORS.length], pointRadius: 0},
      {label: n + ' p99', data: [], borderColor: COLORS[i % COLORS.length], borderDash: [5, 4], pointRadius: 0},
    ]);
  }
  pushPoint(lat, at, names.flatMap((n) => {
    const m = doc.services[n].metrics;
    return m && m.calls > 0 ? [m.responseTime.p95, m.responseTime.p99] : [null, null];
  }));
  // Spend: bar, forecast band as a floating bar, budget as a mark.
  const sp = ui.charts.spend;
  sp.data.labels = names;
  const budget = (n) => doc.services[n].budget;
  sp.data.datasets[0].data = names.map((n) => budget(n) ? budget(n).spendUsd : null);
  sp.data.datasets[1].data = names.map((n) => budget(n)
    ? [budget(n).forecast.lowUsd, budget(n).forecast.highUsd] : null);
  sp.data.datasets[2].data = names.map((n) => budget(n) ? budget(n).budgetUsd : null);
  sp.update();
  // Webhooks: rates from the counters of two snapshots in a row.
  if (doc.webhooks) {
    let received = 0, rejected = 0, pending = 0, awaiting = 0;
    for (const w of Object.values(doc.webhooks)) {
      received += w.received; rejected += w.rejected;
      pending += w.pending || 0; awaiting += w.awaitingConsumer || 0;
    }
    // Stored and not yet delivered; some of them have no agent or endpoint
    // to go to (they wait for one).
    const waiting = $('webhook-waiting');
    waiting.textContent = pending === 0 ? ''
      : pending + ' pending' + (awaiting ? ', ' + awaiting + ' waiting for a consumer' : '');
    waiting.classList.toggle('warn', awaiting > 0);
    const now = Date.parse(doc.generatedAt);
    const prev = ui.lastWebhooks;
    if (prev && now > prev.at) {
      const perMin = 60000 / (now - prev.at);
      pushPoint(ui.charts.webhooks, at, [Math.max(0, received - prev.received) * perMin,
        Math.max(0, rejected - prev.rejected) * perMin]);
    }
    ui.lastWebhooks = {at: now, received, rejected};
  }
}

// -- tables and feeds ---------------------------------------------------------

function stateCell(state, field) {
  return el('td', {class: 'state-' + (state || 'none'), data: {field}}, state || '–');
}

function renderServices(doc) {
  const body = $('services').tBodies[0];
  body.replaceChildren();
  for (const [name, s] of Object.entries(doc.services || {})) {
    const m = s.metrics, b = s.budget;
    const f = (k) => name + '.' + k;
    body.append(el('tr', {data: {service: name}},
      el('td', {}, name),
      el('td', {data: {field: f('calls')}}, m ? m.calls : '–'),
      el('td', {data: {field: f('p95')}}, m && m.calls > 0 ? num(m.responseTime.p95, 1) : '–'),
      el('td', {data: {field: f('p99')}}, m && m.calls > 0 ? num(m.responseTime.p99, 1) : '–'),
      el('td', {data: {field: f('errors')}}, m ? pct(m.errorRates.overall) : '–'),
      el('td', {data: {field: f('spend')}}, b ? usd(b.spendUsd) : '–'),
      el('td', {data: {field: f('budget')}}, b ? usd(b.budgetUsd) : '–'),
      el('td', {data: {field: f('forecast')}}, b ? usd(b.forecast.monthEndUsd) : '–'),
      stateCell(b ? b.state : null, f('state')),
      el('td', {data: {field: f('alerts')}}, m ? m.alerts.length : '–')));
  }
}

function renderAgents(doc) {
  const body = $('agents').tBodies[0];
  body.replaceChildren();
  const a = doc.agents;
  if (!a) {
    $('roster').textContent = '(the hub did not answer)';
    return;
  }
  for (const x of a.agents)
    body.append(el('tr', {data: {agent: x.name}},
      el('td', {}, x.name), el('td', {}, x.role), stateCell(x.state, x.name + '.state'),
      el('td', {}, x.inFlight), el('td', {}, x.answered),
      el('td', {}, num(x.responseTimeMs.p95, 1))));
  for (const name of a.roster.missing)
    body.append(el('tr', {}, el('td', {}, name), el('td', {}, ''),
      stateCell('missing', name + '.state'), el('td', {}, ''), el('td', {}, ''), el('td', {}, '')));
  const missing = a.roster.missing.length;
  $('roster').textContent = a.roster.expected.length === 0 ? ''
    : missing === 0 ? '(every expected agent is here)' : '(' + missing + ' expected missing)';
}

function alertItem(when, severity, text) {
  return el('li', {}, el('span', {class: 'when'}, clock(when)),
    el('span', {class: severity || ''}, text));
}

function renderAlerts(doc) {
  const list = $('alerts');
  list.replaceChildren();
  for (const a of doc.alerts || [])
    list.append(alertItem(a.since, a.priority, a.service + ': ' + a.metric + ' ' + a.kind
      + ' ' + num(a.value, 2) + ' (threshold ' + num(a.threshold, 2) + ')'));
  for (const a of ui.alertFeed) list.append(a.cloneNode(true));
  if (!list.firstChild) list.append(el('li', {class: 'muted'}, 'no open alerts'));
}

function renderRecommendations(doc) {
  const list = $('recommendations');
  list.replaceChildren();
  for (const r of doc.recommendations || []) {
    const item = el('li', {data: {recommendation: r.id}},
      el('b', {}, r.service ? r.service + ': ' : ''), r.action.description || r.kind,
      el('span', {class: 'muted'}, ' — ' + (r.rationale || '') +
        (r.source && r.source !== 'node' ? ' (' + r.source + ')' : '')));
    if (r.action.type === 'set_limit') {
      const out = el('span', {class: 'muted'});
      item.append(el('button', {type: 'button', onclick: () => applyRecommendation(r.id, out)},
        'apply'), out);
    }
    list.append(item);
  }
  if (!list.firstChild) list.append(el('li', {class: 'muted'}, 'nothing to recommend'));
}

async function applyRecommendation(id, out) {
  out.textContent = ' applying…';
  try {
    const res = await api('POST', P + '/cost/optimize', {apply: true, ids: [id]});
    const c = (res.changes || [])[0];
    out.textContent = c ? ' ' + c.status + (c.reason ? ': ' + c.reason : '') : ' nothing to change';
    // The dashboard document is a snapshot of up to 1 s: read it after.
    setTimeout(refresh, 1100);
  } catch (e) {
    out.textContent = e.status === 403 ? ' needs an operator key' : ' ' + e.message;
  }
}

function render(doc) {
  ui.doc = doc;
  $('node').textContent = 'node ' + doc.node;
  $('generated').textContent = 'as of ' + clock(doc.generatedAt);
  renderServices(doc);
  renderAgents(doc);
  renderAlerts(doc);
  renderRecommendations(doc);
  updateCharts(doc);
  document.body.dataset.generatedAt = doc.generatedAt;
}

function addEvent(topic, ev) {
  const severity = ev.critical ? 'critical' : ev.priority;
  const what = topic === 'webhook' ? ev.service + ' ' + ev.type + (ev.critical ? ' (critical)' : '')
    : topic === 'agent' ? ev.name + ' is ' + ev.state
    : topic === 'finding' ? ev.agent + ' found: ' + ev.title
    : (ev.service ? ev.service + ' ' : '') + (ev.type === topic ? '' : ev.type + ' ')
      + JSON.stringify(ev.payload);
  const item = el('li', {data: {topic}}, el('span', {class: 'when'}, clock()),
    el('b', {}, topic + ' '), el('span', {class: severity || ''}, what));
  const list = $('events');
  list.prepend(item);
  while (list.children.length > FEED_ITEMS) list.lastChild.remove();
  if (topic === 'alert' || topic === 'cost_alert' || topic === 'budget') {
    ui.alertFeed.unshift(alertItem(ev.createdAt, ev.priority, topic + ' ' + what));
    ui.alertFeed.length = Math.min(ui.alertFeed.length, 50);
    if (ui.doc) renderAlerts(ui.doc);
  }
  document.body.dataset.events = String(Number(document.body.dataset.events || 0) + 1);
}

// -- live ---------------------------------------------------------------------

function setLive(on, text) {
  const b = $('live');
  b.className = 'badge ' + (on ? 'on' : 'off');
  b.textContent = text;
}

async function connect() {
  if (ui.source) ui.source.close();
  try {
    // A ticket opens one stream once: a reconnect asks for a new one.
    const t = await api('POST', P + '/stream/ticket');
    const url = P + '/stream?topics=' + TOPICS.join(',') + '&ticket=' + encodeURIComponent(t.ticket);
    const es = new EventSource(url);
    ui.source = es;
    es.onopen = () => { ui.retryMs = 1000; setLive(true, 'live'); };
    es.onerror = () => {
      es.close();
      if (ui.source === es) reconnect();
    };
    es.addEventListener('dashboard', (m) => {
      ui.streamSnapshots += 1;
      document.body.dataset.streamSnapshots = String(ui.streamSnapshots);
      render(JSON.parse(m.data));
    });
    for (const topic of TOPICS.slice(1))
      es.addEventListener(topic, (m) => addEvent(topic, JSON.parse(m.data)));
  } catch (e) {
    if (e.status === 401 || e.status === 403) return askForKey(e.message);
    reconnect();
  }
}

function reconnect() {
  setLive(false, 'reconnecting');
  setTimeout(connect, ui.retryMs);
  ui.retryMs = Math.min(ui.retryMs * 2, 30000);
}

async function refresh() {
  render(await api('GET', P + '/dashboard'));
}

async function start() {
  try {
    await refresh();
  } catch (e) {
    if (e.status === 401 || e.status === 403) return askForKey(ui.key ? e.message : '');
    setLive(false, 'node unreachable');
    setTimeout(start, 5000);
    return;
  }
  $('key-form').classList.add('hidden');
  $('main').classList.remove('hidden');
  document.body.dataset.loaded = 'true';
  connect();
}

// -- this page as an agent -----------------------------------------------------
// The page registers over the agents' WebSocket with the JavaScript agent
// library (clients/js, served as /ui/streamb-agent.mjs), role frontend,
// subscribed to frontend_update: the seed's Frontend agent. Each event is
// shown and answered ok. In a browser the library opens the socket with a
// one-time agent ticket asked with the agent key.

const pageAgent = {agent: null, received: 0};

function setPageAgentState(text) {
  $('page-agent-state').textContent = text;
  document.body.dataset.pageAgent = text;
}

async function connectPageAgent() {
  const {Agent, Answer} = await import('/ui/streamb-agent.mjs');
  const key = $('page-agent-key').value.trim();
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const name = 'dashboard-' + Math.random().toString(16).slice(2, 8);
  const agent = new Agent({
    urls: [scheme + location.host + '/api/v1/agents/ws'],
    name, role: 'frontend', subscriptions: ['frontend_update'],
    key: key || undefined,
    handler: (event) => {
      pageAgent.received += 1;
      document.body.dataset.pageAgentEvents = String(pageAgent.received);
      const view = JSON.stringify(event.payload ?? null);
      const li = el('li', {data: {id: event.id}},
        el('span', {class: 'when'}, clock(event.createdAt)),
        event.type + ' from ' + event.source + ': ' + view.slice(0, 300));
      $('page-agent-events').prepend(li);
      while ($('page-agent-events').children.length > FEED_ITEMS)
        $('page-agent-events').lastChild.remove();
      return new Answer('ok', {shown: true, by: name});
    },
    onConnection: (what, detail) => {
      if (what === 'registered') setPageAgentState('registered as ' + name);
      else if (what === 'disconnected') setPageAgentState('reconnecting');
      else if (what === 'refused') setPageAgentState('refused: ' + detail);
    },
  });
  pageAgent.agent = agent;
  $('page-agent-connect').textContent = 'Disconnect';
  setPageAgentState('connecting');
  try {
    await agent.run();
  } catch (e) {
    setPageAgentState('refused: ' + (e && e.message ? e.message : e));
  }
  if (pageAgent.agent === agent) {
    pageAgent.agent = null;
    $('page-agent-connect').textContent = 'Connect';
  }
}

$('page-agent-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const running = pageAgent.agent;
  if (running) {
    pageAgent.agent = null;
    await running.stop();
    $('page-agent-connect').textContent = 'Connect';
    setPageAgentState('not connected');
    return;
  }
  connectPageAgent();
});

makeCharts();
start();
