// Builds the extension: one bundle for VS Code (dist/), or with --test one CommonJS file per
// source (out/) so that node:test can replace `vscode` and `vscode-languageclient/node`.
import * as esbuild from 'esbuild';
import fs from 'node:fs';

const test = process.argv.includes('--test');
if (test) {
  const entries = fs.readdirSync('src').filter((f) => f.endsWith('.ts')).map((f) => `src/${f}`);
  await esbuild.build({ entryPoints: entries, outdir: 'out', format: 'cjs', platform: 'node', target: 'node20', sourcemap: 'inline', logLevel: 'warning' });
} else {
  await esbuild.build({
    entryPoints: ['src/extension.ts'],
    bundle: true,
    outfile: 'dist/extension.js',
    external: ['vscode'],
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: process.argv.includes('--minify'),
    sourcemap: false,
    logLevel: 'warning',
  });
}
