#!/usr/bin/env node
import { main, reportFatal } from './main.js';

main(process.argv.slice(2)).catch(reportFatal);
