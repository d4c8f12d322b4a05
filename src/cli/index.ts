// The command line (main.ts is the entry point). Nothing imports the CLI; this
// index names its entry for tools that embed it.
export { main, buildProgram } from './main.ts';
