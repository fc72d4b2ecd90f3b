// The client's job logic (out/jobs.js) against the fake server: executeCommand with the issue-9
// argument object, progress from the client's token and a server-created one, Cancel on both.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const path = require('node:path');
const rpc = require('vscode-jsonrpc/node');
const { JobRunner, generationOfResult, summaryOfResult } = require('../out/jobs.js');

function startFake() {
  const proc = spawn(process.execPath, [path.join(__dirname, 'fake-strata-server.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
  const logs = [];
  conn.onNotification('window/logMessage', (p) => logs.push(p));
  return { proc, conn, logs };
}

function recordingUi(onReport) {
  const reports = [];
  let cancel;
  return {
    reports,
    cancel: () => cancel(),
    ui: {
      withProgress: async (title, task) => {
        reports.push(['title', title]);
        return task({
          report: (m, pct) => {
            reports.push([m, pct]);
            if (onReport) onReport(m, pct);
          },
          onCancel: (h) => (cancel = h),
        });
      },
    },
  };
}

async function session(fn) {
  const { proc, conn, logs } = startFake();
  conn.listen();
  try {
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await fn(conn, logs);
  } finally {
    await conn.sendRequest('shutdown').catch(() => undefined);
    conn.sendNotification('exit');
    await new Promise((r) => proc.on('exit', r));
    conn.dispose();
  }
}

test('apply sends the issue-9 argument and shows progress of both tokens', { timeout: 15000 }, async () => {
  await session(async (conn, logs) => {
    const rec = recordingUi();
    const runner = new JobRunner(conn, rec.ui);
    conn.onRequest('window/workDoneProgress/create', (p) => {
      assert.equal(runner.adoptServerToken(p.token), true);
      return null;
    });
    const result = await runner.run('strata.apply', { installable: '/w#homeConfigurations.alice' }, 'Applying alice');
    assert.equal(generationOfResult(result), 2);
    assert.equal(summaryOfResult(result), 'generation 2: 1 package changed');
    assert.equal(runner.busy, false);
    const seen = await conn.sendRequest('fake/seen');
    const exec = seen.find((s) => s[0] === 'execute');
    assert.deepEqual(exec[2], { installable: '/w#homeConfigurations.alice' });
    assert.match(exec[3], /^strata-client-/);
    const messages = rec.reports.map((r) => r[0]);
    assert.deepEqual(messages.slice(0, 2), ['title', 'Applying: evaluating']);
    assert.ok(messages.includes('building 2 of 3'), messages.join('|'));
    assert.ok(rec.reports.some((r) => r[0] === 'building 3 of 3' && r[1] === 100));
    assert.deepEqual(logs.map((l) => l.message), ['hello-1> building step 1', 'hello-2> building step 2', 'hello-3> building step 3']);
  });
});

test('cancel reaches every token of the job and the server stops', { timeout: 15000 }, async () => {
  await session(async (conn) => {
    let rec;
    rec = recordingUi((m) => {
      if (m === 'building 1 of 50') rec.cancel();
    });
    const runner = new JobRunner(conn, rec.ui);
    conn.onRequest('window/workDoneProgress/create', (p) => (runner.adoptServerToken(p.token), null));
    const result = await runner.run('strata.apply', { installable: '/w#x', steps: 50, stepMs: 50 }, 't');
    assert.deepEqual(result, { cancelled: true });
    const seen = await conn.sendRequest('fake/seen');
    const cancelledTokens = seen.filter((s) => s[0] === 'cancel').map((s) => String(s[1]));
    assert.equal(cancelledTokens.length, 2, JSON.stringify(seen));
    assert.ok(cancelledTokens.some((t) => t.startsWith('strata-client-')));
    assert.ok(cancelledTokens.some((t) => t.startsWith('server-')));
  });
});

test('a second job while one runs is refused', { timeout: 15000 }, async () => {
  await session(async (conn) => {
    const rec = recordingUi();
    const runner = new JobRunner(conn, rec.ui);
    conn.onRequest('window/workDoneProgress/create', (p) => (runner.adoptServerToken(p.token), null));
    const first = runner.run('strata.build', { installable: '/w#a', steps: 5 }, 'a');
    await assert.rejects(runner.run('strata.build', { installable: '/w#b' }, 'b'), /still running/);
    assert.deepEqual(await first, { outPath: '/nix/store/fake-top' });
  });
});

test('server tokens outside a job are left to the caller', () => {
  const runner = new JobRunner({ sendRequest: async () => null, sendNotification() {}, onProgress: () => ({ dispose() {} }) }, recordingUi().ui);
  assert.equal(runner.adoptServerToken('t'), false);
});

test('generation numbers are read from the result forms a server may send', () => {
  assert.equal(generationOfResult(7), 7);
  assert.equal(generationOfResult({ generation: 13 }), 13);
  assert.equal(generationOfResult({ generation: { number: 4, date: 'x' } }), 4);
  assert.equal(generationOfResult({ outPath: '/nix/store/x' }), undefined);
  assert.equal(generationOfResult(null), undefined);
});
