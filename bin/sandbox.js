#!/usr/bin/env node
// Entry point: the bundle keeps `sandbox --help` fast (scripts/build.mjs).
import '../dist/cli.js';
