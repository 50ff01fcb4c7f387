#!/usr/bin/env node
import { connectCommand } from './cli/connect.js';
import { doctorCommand } from './cli/doctor.js';
import { main, reportFatal } from './main.js';

const argv = process.argv.slice(2);
if (argv[0] === 'connect') {
  // A command for a person's terminal, not MCP: its answer goes to stdout.
  connectCommand(argv.slice(1), { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) })
    .then((code) => process.stdout.write('', () => process.exit(code)))
    .catch(reportFatal);
} else if (argv[0] === 'doctor') {
  // Also for a person's terminal: checks what jlab-mcp needs and prints the fixes.
  doctorCommand(argv.slice(1), { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) })
    .then((code) => process.stdout.write('', () => process.exit(code)))
    .catch(reportFatal);
} else {
  main(argv).catch(reportFatal);
}
