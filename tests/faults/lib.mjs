// lib.mjs — helpers of the fault suite: a raw, fast picker-choice client (the flood), timing, and
// a bounded retry loop. The daemon, the RP and the browser come from tests/integration/lib/.
import { randomBytes, createHash } from 'node:crypto';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One fresh picker choice as an anonymous client makes it: /authorize (a sealed first leg, no
 * state at the hub), the picker page (for its CSRF field), then POST the choice, which stores a new
 * journey. state and nonce are long, so each journey is ~3 KB. Returns {status, text, headers}.
 */
export async function freshChoice(hub, clientId, redirectUri, cookie) {
  const big = randomBytes(600).toString('base64url').slice(0, 800);
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid',
    state: big, nonce: big, code_challenge_method: 'S256',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
  });
  const headers = { cookie };
  const a = await fetch(`${hub.issuer}/authorize?${q}`, { redirect: 'manual', headers });
  await a.arrayBuffer();
  const loc = a.headers.get('location');
  if (!loc || !/\/login\//.test(loc)) return { status: a.status, text: `authorize → ${loc}` };
  const url = new URL(loc, hub.issuer);
  const p = await fetch(url, { headers });
  const html = await p.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!csrf) return { status: p.status, text: html };
  const pp = await fetch(url, {
    method: 'POST', redirect: 'manual',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, idp: 'sandbox' }),
  });
  return { status: pp.status, text: await pp.text(), headers: pp.headers };
}

/** A browser cookie of the hub's form (43 base64url characters). */
export const browserCookie = () => `idhub_browser=${randomBytes(32).toString('base64url')}`;

/** Calls fn until it resolves truthy or ms pass; returns the value or throws the last error. */
export async function until(ms, fn, stepMs = 250) {
  const end = Date.now() + ms;
  let last;
  for (let i = 0; Date.now() < end && i < 10000; i++) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await sleep(stepMs);
  }
  throw last ?? new Error(`not within ${ms} ms`);
}
