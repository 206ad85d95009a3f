// saml-journey.mjs — the citizen's journey through the hub to a SAML IdP: authorize → picker → the
// IdP (HTTP-Redirect AuthnRequest) → SimpleSAMLphp's login form → its auto-POST of the SAMLResponse
// to the hub's ACS (cross-site: the hub re-posts once from its own origin) → the redirect to the RP.
import { Browser, parseForms, isRepostPage, isResume } from './browser.mjs';
import { TEST_USER } from './saml-idp.mjs';

/** authorize → picker → choose idp; returns {ua, journeyId, idpRedirect (the AuthnRequest URL)}. */
export async function toIdp(authorizeUrl, idp, ua = new Browser()) {
  const rp = new URL(authorizeUrl).searchParams.get('redirect_uri');
  const a = await ua.get(authorizeUrl, { initiator: rp });
  if (a.status !== 303) throw new Error(`authorize: ${a.status} ${a.text.slice(0, 500)}`);
  const p = await ua.get(a.location, { initiator: rp });
  const pp = await ua.submitForm(p.text, p.url, { idp }, { form: (f) => f.fields.some((x) => x.name === 'idp') });
  if (pp.status !== 303) throw new Error(`picker: ${pp.status} ${pp.text.slice(0, 800)}`);
  return { ua, journeyId: /\/login\/([^/?#]+)/.exec(a.location)[1], idpRedirect: pp.location, pickerPost: pp };
}

/** POST a SAMLResponse to the hub's ACS as the IdP's auto-POST page would (cross-site), then the
 * hub's redirect to the resumed GET (or its same-site re-post). Returns the final answer. */
export async function postToAcs(ua, acs, fields, initiator) {
  let first = await ua.post(acs, new URLSearchParams(fields), { initiator });
  if (isResume(first)) first = await ua.get(first.location, { initiator });
  if (first.status === 200 && isRepostPage(first.text)) {
    return ua.submitForm(first.text, first.url, {}, { form: (f) => f.fields.some((x) => x.name === 'idhub_repost') });
  }
  return first;
}

/** The whole journey against SimpleSAMLphp; returns {location (redirect to the RP), steps}. */
export async function loginViaSimpleSaml(authorizeUrl, idp, { user = TEST_USER } = {}) {
  const steps = {};
  const { ua, idpRedirect } = await toIdp(authorizeUrl, idp);
  steps.authnRequestUrl = idpRedirect;
  let r = await ua.get(idpRedirect, { initiator: new URL(authorizeUrl).origin });
  for (let i = 0; i < 6 && r.status >= 300 && r.status < 400; i++) r = await ua.get(r.location, { initiator: r.url });
  if (r.status !== 200 || !/name="password"/.test(r.text)) throw new Error(`IdP login page: ${r.status} ${r.url}\n${r.text.slice(0, 1500)}`);
  let s = await ua.submitForm(r.text, r.url, { username: user.username, password: user.password },
    { form: (f) => f.fields.some((x) => x.name === 'password') });
  for (let i = 0; i < 6 && s.status >= 300 && s.status < 400; i++) s = await ua.get(s.location, { initiator: s.url });
  const form = parseForms(s.text).find((f) => f.fields.some((x) => x.name === 'SAMLResponse'));
  if (!form) throw new Error(`IdP did not answer the auto-POST: ${s.status} ${s.url}\n${s.text.slice(0, 1500)}`);
  const fields = Object.fromEntries(form.fields.filter((x) => x.name).map((x) => [x.name, x.value]));
  steps.samlResponse = fields.SAMLResponse;
  steps.relayState = fields.RelayState;
  steps.acs = form.action;
  const c = await postToAcs(ua, form.action, fields, s.url);
  steps.callback = c;
  return { ua, location: c.status === 303 ? c.location : null, steps };
}
