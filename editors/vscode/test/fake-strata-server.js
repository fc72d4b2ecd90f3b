// A small stand-in for the server's Apply commands (issue 9), used only to test the client's job
// logic until the real server has them: speaks LSP over stdio with vscode-jsonrpc.
// strata.apply / strata.build: creates a server token, reports progress on it and on the client's
// token, sends build log lines (window/logMessage type Log), then answers { generation } — or,
// when the client cancels any of the tokens, stops and answers { cancelled: true }.
const rpc = require('vscode-jsonrpc/node');

const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(process.stdin), new rpc.StreamMessageWriter(process.stdout));
const cancelled = new Set();
const generations = [{ number: 1, date: '2026-11-27 10:00:00', current: true }];
const seen = [];

// With --editor-stub it also answers a few document requests, so that the editor tests can be
// developed before the real server has them (never used by the committed e2e runs).
const editorStub = process.argv.includes('--editor-stub');
conn.onRequest('initialize', () => ({
  capabilities: {
    executeCommandProvider: { commands: ['strata.apply', 'strata.build', 'strata.rollback', 'strata.generations'] },
    ...(editorStub ? { textDocumentSync: 1, hoverProvider: true, completionProvider: {} } : {}),
  },
  serverInfo: { name: 'fake-strata', version: '0.1.0' },
}));
conn.onNotification('initialized', () => {});
conn.onNotification('window/workDoneProgress/cancel', (p) => {
  cancelled.add(p.token);
  seen.push(['cancel', p.token]);
});
conn.onRequest('fake/seen', () => seen);
conn.onNotification('textDocument/didOpen', (p) => {
  const lines = p.textDocument.text.split('\n');
  const diagnostics = [];
  lines.forEach((l, i) => {
    const c = l.indexOf('greting');
    if (c >= 0) diagnostics.push({ range: { start: { line: i, character: c }, end: { line: i, character: c + 7 } }, severity: 1, message: 'stub: undefined variable `greting`' });
  });
  conn.sendNotification('textDocument/publishDiagnostics', { uri: p.textDocument.uri, diagnostics });
});
conn.onRequest('textDocument/hover', () => ({ contents: { kind: 'markdown', value: 'stub: locked at 7e7c39ea35c5cdd002cd4588b03a3fb9ece6fad9' } }));
conn.onRequest('textDocument/completion', () => [{ label: 'greeting', kind: 6 }, { label: 'shellName', kind: 6 }]);
conn.onRequest('shutdown', () => null);
conn.onNotification('exit', () => process.exit(0));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

conn.onRequest('workspace/executeCommand', async (params) => {
  const [arg] = params.arguments || [];
  seen.push(['execute', params.command, arg, params.workDoneToken]);
  const mine = params.workDoneToken;
  switch (params.command) {
    case 'strata.generations':
      return generations;
    case 'strata.rollback': {
      const to = arg && arg.to !== undefined ? arg.to : generations.find((g) => g.current).number - 1;
      for (const g of generations) g.current = g.number === to;
      return { generation: to };
    }
    case 'strata.apply':
    case 'strata.build': {
      const serverToken = 'server-' + Math.random().toString(36).slice(2);
      await conn.sendRequest('window/workDoneProgress/create', { token: serverToken });
      conn.sendProgress(rpc.ProgressType ? new rpc.ProgressType() : undefined, mine, { kind: 'begin', title: 'Applying', message: 'evaluating', cancellable: true, percentage: 0 });
      conn.sendProgress(new rpc.ProgressType(), serverToken, { kind: 'begin', title: 'Building', cancellable: true });
      const steps = (arg && arg.steps) || 3;
      for (let i = 1; i <= steps; i++) {
        if (cancelled.has(mine) || cancelled.has(serverToken)) {
          conn.sendProgress(new rpc.ProgressType(), serverToken, { kind: 'end', message: 'cancelled' });
          conn.sendProgress(new rpc.ProgressType(), mine, { kind: 'end', message: 'cancelled' });
          return { cancelled: true };
        }
        conn.sendNotification('window/logMessage', { type: 4, message: `hello-${i}> building step ${i}` });
        conn.sendProgress(new rpc.ProgressType(), serverToken, { kind: 'report', message: `building ${i} of ${steps}`, percentage: Math.round((100 * i) / steps) });
        await sleep((arg && arg.stepMs) || 20);
      }
      conn.sendProgress(new rpc.ProgressType(), serverToken, { kind: 'end' });
      conn.sendProgress(new rpc.ProgressType(), mine, { kind: 'end', message: 'done' });
      if (params.command === 'strata.build') return { outPath: '/nix/store/fake-top' };
      const n = Math.max(...generations.map((g) => g.number)) + 1;
      for (const g of generations) g.current = false;
      generations.push({ number: n, date: '2026-11-28 01:00:00', current: true });
      conn.sendNotification('window/showMessage', { type: 3, message: `generation ${n}: 1 package changed` });
      return { generation: n, summary: `generation ${n}: 1 package changed` };
    }
    default:
      throw new rpc.ResponseError(-32602, `unknown command ${params.command}`);
  }
});
conn.listen();
