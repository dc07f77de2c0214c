#!/usr/bin/env node
// hostfleet's command. The product runs from its TypeScript sources through tsx's loader, so
// that the processes it starts (BMC emulator, edge, manager, server runtimes) use one code path.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
