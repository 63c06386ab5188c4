// An OpenID provider for Roster's single sign-on tests: panva's oidc-provider
// (OpenID Certified), on loopback, with a plain sign-in page of its own.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: { "port": 0, "client_id", "client_secret", "redirect_uri",
//           "accounts": [{ "email", "name", "email_verified", "entra", "userinfo_only" }] }
// The email claims go in the ID token, as Okta, Google and Entra ID put them. An
// account with "entra" is described as Microsoft Entra ID does: no email_verified,
// but xms_edov (the address's domain is one the tenant verified). One with
// "userinfo_only" gets an ID token with its subject alone, its address at userinfo.
// Prints one line of JSON when it listens: { "issuer": "http://127.0.0.1:PORT" }.
//
// Beside the provider's own routes, a test may ask for trouble it must survive:
//   POST /test/fault   body: normal | down | silent | expired | wrong-audience |
//                      wrong-issuer | wrong-nonce | tampered | unknown-key |
//                      hs256 | alg-none | wrong-at-hash
//   (what the token endpoint's answer becomes: a 503, no answer, or an ID token
//    changed that way and signed again with the provider's own key, or with none
//    of its keys, or not signed again at all)
//   POST /test/rotate  a new signing key; the old one is no longer published.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = new Map(config.accounts.map((a) => [a.email.toLowerCase(), a]));
let fault = 'normal';
let signingKey;
let provider;

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function escape(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>`
    + '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    + `<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

async function readForm(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

// Our sign-in page: the address the relying party hinted, and `Sign in to Test IdP`.
async function interactions(ctx, next) {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    const hint = details.params.login_hint ?? '';
    ctx.type = 'html';
    ctx.body = page('Test IdP', `<form method="post" action="/interaction/${details.uid}/login">`
      + `<label for="login">Email</label> <input id="login" name="login" type="email" value="${escape(hint)}">`
      + ' <button type="submit">Sign in to Test IdP</button></form>');
    return undefined;
  }
  const form = await readForm(ctx.req);
  const account = accounts.get((form.get('login') ?? '').toLowerCase());
  if (!account) {
    ctx.status = 200;
    ctx.type = 'html';
    ctx.body = page('Test IdP', '<p role="alert">No such account at the Test IdP.</p>');
    return undefined;
  }
  const id = account.email.toLowerCase();
  const grant = new provider.Grant({ accountId: id, clientId: details.params.client_id });
  grant.addOIDCScope('openid email profile');
  const grantId = await grant.save();
  const to = await provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId: id },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(to);
  return undefined;
}

// The token endpoint's answer, as the test asked for it.
async function faults(ctx, next) {
  if (ctx.path === '/token' && fault === 'down') {
    ctx.status = 503;
    ctx.body = { error: 'temporarily_unavailable' };
    return;
  }
  if (ctx.path === '/token' && fault === 'silent') {
    await new Promise((resolve) => { setTimeout(resolve, 30000); });
  }
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body?.id_token || fault === 'normal') return;
  const token = ctx.body.id_token;
  const claims = jose.decodeJwt(token);
  const now = Math.floor(Date.now() / 1000);
  const changed = { ...claims };
  if (fault === 'expired') { changed.iat = now - 7200; changed.exp = now - 3600; }
  if (fault === 'wrong-audience') changed.aud = 'someone-else';
  if (fault === 'wrong-issuer') changed.iss = 'https://issuer.invalid';
  if (fault === 'wrong-nonce') changed.nonce = 'not-the-nonce-roster-sent';
  if (fault === 'wrong-at-hash') changed.at_hash = 'AAAAAAAAAAAAAAAAAAAAAA';
  if (fault === 'hs256') {
    // Signed with the client secret, which Roster must never accept as a signature.
    const signed = await new jose.SignJWT(changed)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(config.client_secret));
    ctx.body = { ...ctx.body, id_token: signed };
    return;
  }
  if (fault === 'alg-none') {
    const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    ctx.body = { ...ctx.body, id_token: `${part({ alg: 'none', typ: 'JWT' })}.${part(changed)}.` };
    return;
  }
  if (fault === 'tampered') {
    // Another address in the payload, the provider's signature left as it was.
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...claims, email: 'mallory@acme.test' })).toString('base64url');
    ctx.body = { ...ctx.body, id_token: `${header}.${payload}.${signature}` };
    return;
  }
  const key = fault === 'unknown-key' ? await newKey() : signingKey;
  const signed = await new jose.SignJWT(changed)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(await jose.importJWK(key, 'RS256'));
  ctx.body = { ...ctx.body, id_token: signed };
}

async function control(req, res) {
  if (req.method !== 'POST' || !req.url.startsWith('/test/')) return false;
  if (req.url === '/test/fault') {
    fault = (await readForm(req)).toString().replace(/=$/, '') || 'normal';
  } else if (req.url === '/test/rotate') {
    await start();
  } else {
    res.writeHead(404).end();
    return true;
  }
  res.writeHead(204).end();
  return true;
}

const server = createServer();
let issuer;
let handle;

async function start() {
  signingKey = await newKey();
  provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: [config.redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: config.token_endpoint_auth_method ?? 'client_secret_basic',
    }],
    jwks: { keys: [signingKey] },
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'xms_edov'], profile: ['name'] },
    conformIdTokenClaims: false,
    findAccount: async (_ctx, id) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: async (use) => (account.userinfo_only && use === 'id_token'
          ? { sub: id }
          : account.entra
          ? { sub: id, email: account.email, xms_edov: true, name: account.name }
          : { sub: id, email: account.email, email_verified: account.email_verified ?? true, name: account.name }),
      };
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    cookies: { keys: ['roster-test-provider-cookie-key'] },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Test IdP error', `<p role="alert">${escape(out.error)}: ${escape(out.error_description)}</p>`);
    },
  });
  provider.use(faults);
  provider.use(interactions);
  const callback = provider.callback();
  handle = (req, res) => {
    control(req, res).then((done) => { if (!done) callback(req, res); });
  };
}

// One request per connection: a test client's pooled connection is never reused
// after the provider has closed it.
server.on('request', (req, res) => {
  res.setHeader('Connection', 'close');
  handle(req, res);
});
server.listen(config.port ?? 0, '127.0.0.1', async () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  await start();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
