/**
 * The explorer's HTML shell, its bootstrap script and its stylesheet. They live in TypeScript
 * strings rather than loose .js/.css files so `tsc` carries them into dist/ with no copy step.
 * Everything the page loads is same-origin: the page's CSP forbids anything else.
 */

/** localStorage key of the pasted access token. */
export const TOKEN_STORAGE_KEY = "slotwise.explorer.token";

/** URLs of the page's assets (content-hashed, so they can be cached for a year). */
export interface ExplorerAssetUrls {
  graphiqlCss: string;
  explorerCss: string;
  react: string;
  reactDom: string;
  graphqlWs: string;
  graphiql: string;
  explorerJs: string;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page. No inline script or style: the bootstrap script reads its settings from data
 * attributes, which keeps `script-src 'self'` and `style-src 'self'` enough.
 */
export function renderExplorerPage(opts: { graphqlPath: string; assets: ExplorerAssetUrls }): string {
  const a = opts.assets;
  const src = (url: string) => escapeHtml(url);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Slotwise GraphQL explorer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${src(a.graphiqlCss)}">
<link rel="stylesheet" href="${src(a.explorerCss)}">
</head>
<body data-graphql-path="${escapeHtml(opts.graphqlPath)}">
<header class="sw-bar">
  <strong class="sw-title">Slotwise GraphQL explorer</strong>
  <form id="sw-token-form" class="sw-token-form" autocomplete="off">
    <label class="sw-token-label" for="sw-token">Bearer token</label>
    <input id="sw-token" name="token" type="password" autocomplete="off" spellcheck="false"
      placeholder="Paste an access token from login or register">
    <button id="sw-token-clear" type="button">Clear</button>
  </form>
  <span id="sw-auth-status" class="sw-status" role="status" aria-live="polite"></span>
  <span id="sw-ws-status" class="sw-status" role="status" aria-live="polite" data-state="idle"></span>
</header>
<main id="graphiql"><p class="sw-loading">Loading the explorer…</p></main>
<script src="${src(a.react)}"></script>
<script src="${src(a.reactDom)}"></script>
<script src="${src(a.graphqlWs)}"></script>
<script src="${src(a.graphiql)}"></script>
<script src="${src(a.explorerJs)}"></script>
</body>
</html>
`;
}

/**
 * Browser script (plain ES2017, runs as-is). Uses the UMD globals `React`, `ReactDOM`,
 * `graphqlWs` and `GraphiQL` (whose `createFetcher` is @graphiql/toolkit's createGraphiQLFetcher).
 */
export const EXPLORER_CLIENT_JS = `(function () {
  "use strict";
  var TOKEN_KEY = ${JSON.stringify(TOKEN_STORAGE_KEY)};
  var DEFAULT_QUERY = [
    "# Slotwise GraphQL explorer",
    "#",
    "# Paste an access token (from login or",
    "# register) in the box above. It is sent",
    "# as a bearer token over HTTP and in the",
    "# graphql-ws connectionParams, so",
    "# subscriptions run here too.",
    "",
    "{",
    "  me {",
    "    id",
    "    email",
    "    role",
    "  }",
    "}",
    ""
  ].join("\\n");

  var path = document.body.getAttribute("data-graphql-path") || "/graphql";
  var httpUrl = location.origin + path;
  var wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;

  var input = document.getElementById("sw-token");
  var clearButton = document.getElementById("sw-token-clear");
  var authStatus = document.getElementById("sw-auth-status");
  var wsStatus = document.getElementById("sw-ws-status");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));

  function readToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  function storeToken(token) {
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token still works for this page view */ }
  }
  // People paste the whole header value as often as the bare token.
  function normalise(raw) {
    return String(raw || "").trim().replace(/^bearer\\s+/i, "").trim();
  }
  function setWsStatus(text, state) {
    wsStatus.textContent = text;
    wsStatus.setAttribute("data-state", state);
  }

  var current = null;
  var wsClient = null;
  var generation = 0;

  // graphql-ws sends connectionParams only when the socket opens, so a new token needs a new
  // client (and so a new fetcher); the old one is disposed, which ends its subscriptions.
  function apply(token) {
    if (token === current) return;
    current = token;
    storeToken(token);
    var gen = ++generation;
    if (wsClient) wsClient.dispose();
    var authorization = token ? "Bearer " + token : "";
    wsClient = graphqlWs.createClient({
      url: wsUrl,
      lazy: true,
      connectionParams: authorization ? { authorization: authorization } : {},
      // A refused token (4403) stays refused; retrying would only flicker the status.
      shouldRetry: function (event) { return !(event && event.code === 4403); },
      on: {
        connecting: function () { if (gen === generation) setWsStatus("WebSocket: connecting", "connecting"); },
        connected: function () { if (gen === generation) setWsStatus("WebSocket: connected", "connected"); },
        closed: function (event) {
          if (gen !== generation) return;
          var code = event && event.code;
          if (code === 4403) setWsStatus("WebSocket: token rejected (4403)", "rejected");
          // 1000: the lazy client closed after its last subscription ended.
          else if (code === 1000) setWsStatus("WebSocket: idle", "idle");
          else setWsStatus("WebSocket: closed" + (code ? " (" + code + ")" : ""), "closed");
        }
      }
    });
    var fetcher = GraphiQL.createFetcher({
      url: httpUrl,
      wsClient: wsClient,
      headers: authorization ? { Authorization: authorization } : {}
    });
    authStatus.textContent = token
      ? "Token set (\\u2026" + token.slice(-6) + "): sent on HTTP and WebSocket"
      : "No token: requests are anonymous";
    authStatus.setAttribute("data-token", token ? "set" : "none");
    setWsStatus("WebSocket: idle", "idle");
    root.render(React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: "variables"
    }));
  }

  var pending = null;
  function applyInput() {
    clearTimeout(pending);
    apply(normalise(input.value));
  }
  input.addEventListener("input", function () {
    clearTimeout(pending);
    pending = setTimeout(applyInput, 300);
  });
  input.addEventListener("change", applyInput);
  // Enter submits the form: apply the token instead of navigating.
  document.getElementById("sw-token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    applyInput();
  });
  clearButton.addEventListener("click", function () {
    input.value = "";
    applyInput();
    input.focus();
  });

  input.value = readToken();
  apply(normalise(input.value));
})();
`;

export const EXPLORER_CSS = `html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.sw-bar {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 0.75rem;
  padding: 0.5rem 1rem; font-size: 14px;
  background: #f6f8fa; border-bottom: 1px solid #d0d7de; color: #1f2328;
}
.sw-title { margin-right: 0.5rem; }
.sw-token-form { display: flex; flex: 1 1 20rem; max-width: 34rem; align-items: center; gap: 0.5rem; margin: 0; }
.sw-token-label { font-weight: 600; }
#sw-token {
  flex: 1 1 auto; min-width: 8rem; padding: 0.3rem 0.5rem; font: inherit;
  border: 1px solid #d0d7de; border-radius: 6px; background: #fff;
}
#sw-token-clear {
  padding: 0.3rem 0.75rem; font: inherit; cursor: pointer;
  border: 1px solid #d0d7de; border-radius: 6px; background: #fff;
}
.sw-status { color: #59636e; white-space: nowrap; }
#sw-ws-status[data-state="connected"] { color: #1a7f37; }
#sw-ws-status[data-state="rejected"], #sw-ws-status[data-state="closed"] { color: #cf222e; }
#graphiql { flex: 1 1 auto; min-height: 0; }
.sw-loading { padding: 1rem; }
`;
