// Shared setup for the client checks: clients pointed at the gateway by
// environment (set by clients_test.go).
import OpenAI from 'openai';
import { Ollama } from 'ollama';

export const gateway = process.env.GATEWAY_URL;
export const persona = process.env.PERSONA || 'my-coder';
export const embedder = process.env.EMBED_MODEL || 'my-embedder';
const key = process.env.API_KEY || 'unused';

export const openai = new OpenAI({ baseURL: gateway + '/v1', apiKey: key, maxRetries: 0 });
export const ollama = new Ollama({ host: gateway, headers: { Authorization: 'Bearer ' + key } });

export function check(cond, msg) {
  if (!cond) throw new Error('check failed: ' + msg);
}

// run executes fn and prints one JSON line; a failure exits non-zero.
export async function run(name, fn) {
  try {
    const out = await fn();
    console.log(JSON.stringify({ check: name, ok: true, ...out }));
  } catch (err) {
    console.error(JSON.stringify({ check: name, ok: false, error: String(err && err.stack || err) }));
    process.exit(1);
  }
}
