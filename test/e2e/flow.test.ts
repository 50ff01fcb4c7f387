import { spawnServer } from '../helpers/mcpClient.js';
import { defineReferenceFlow } from '../helpers/referenceFlow.js';

defineReferenceFlow('jlab-mcp end to end (stdio, real local Jupyter)', { spawn: () => spawnServer(), backend: 'local' });
