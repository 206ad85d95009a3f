#!/usr/bin/env node
// try-wallet.mjs — try the wallet adapter by hand, without a real EUDI wallet (README, "EU Digital
// Identity Wallet"): the tests' own test wallet and PID issuer (../integration/lib/wallet.mjs) from
// the command line. For development only: the PID is made up and signed by a throwaway test CA.
//
//   node tests/tools/try-wallet.mjs setup DIR
//       makes the test PKI in DIR (certs/make-wallet-test-pki.sh) and prints the idps entry to add
//       to a copy of deploy/dev.conf
//   node tests/tools/try-wallet.mjs answer DIR 'openid4vp://...'
//       issues a test PID (Erika Mustermann) from DIR's issuer and answers the request of that link
//       (the "Open your wallet" link, or the QR code's text) as a wallet would; prints the
//       same-device redirect_uri to open in the browser, or says the waiting page will move on
import path from 'node:path';
import { makePkiIn, issuer, holder, issuePid, answer } from '../integration/lib/wallet.mjs';

const [cmd, dir, link] = process.argv.slice(2);
if (cmd === 'setup' && dir) {
  const pki = await makePkiIn(path.resolve(dir));
  console.log(`Add to the idps list of a copy of deploy/dev.conf:
  { id = "wallet";
    adapter = "wallet";
    display_name = "Use your digital identity wallet";
    max_loa = "http://eidas.europa.eu/LoA/high";
    settings = {
      verifier_key = "${pki.file('verifier.key')}";
      verifier_cert = "${pki.file('verifier.crt')}";
      client_id_dns = "verifier.idhub.test";
      trust_anchors = "${pki.file('issuer-ca.crt')}";
    };
  }
The test certificates last one day: run setup again after that.`);
} else if (cmd === 'answer' && dir && /^(openid4vp|haip-vp|eudi-openid4vp):\/\//.test(link ?? '')) {
  const pki = { dir: path.resolve(dir), file: (n) => path.join(path.resolve(dir), n) };
  const hold = await holder();
  const pid = await issuePid(await issuer(pki), hold);
  const { res } = await answer(link, pid, hold);
  if (res.status !== 200) {
    console.error(`the hub refused the answer: ${res.status} ${res.text}`);
    process.exit(1);
  }
  console.log(res.json?.redirect_uri
    ? `Same device: open this in the browser that started the login:\n${res.json.redirect_uri}`
    : 'Answered (cross-device): the waiting page moves on by itself.');
} else {
  console.error("usage: try-wallet.mjs setup DIR | try-wallet.mjs answer DIR 'openid4vp://...'");
  process.exit(2);
}
