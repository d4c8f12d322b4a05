#!/usr/bin/env node
// A thin launcher: the CLI is TypeScript run through Node's native type stripping,
// which needs Node 24 (installed by `npm install` as the `node` devDependency).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(`kubemend needs Node.js 24 or newer (this is ${process.version}). ` +
    'Run it through npm (`npx kubemend …` or `npm run …`) after `npm install`, which provides Node 24.');
  process.exit(1);
}
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv);
