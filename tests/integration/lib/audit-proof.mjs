// audit-proof.mjs — an independent checker of idhub's audit-log inclusion proofs, written from
// RFC 9162 §2.1.3.2 and RFC 7515 with nothing of the C code: what an outside party runs against a
// published tree head and the hub's published JWKS.
//
// proof: the JSON `idhubctl audit prove N` prints: {leaf_index, tree_size, leaf_hash, audit_path,
// record, tree_head}. jwks: the hub's JWKS document. Returns the head's payload when the proof
// holds; throws with the reason when it does not.
import { createHash } from 'node:crypto';
import * as jose from 'jose';

const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();

export function leafHash(recordBytes) {
  return sha256(Buffer.from([0]), Buffer.from(recordBytes));
}

/** RFC 9162 §2.1.3.2: the root an inclusion path leads to, or null when it cannot fit the size. */
export function rootFromPath(index, size, leaf, path) {
  if (index >= size) return null;
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

export async function checkProof(proof, jwks) {
  const keys = jose.createLocalJWKSet(jwks);
  const { payload, protectedHeader } = await jose.compactVerify(proof.tree_head, keys);
  if (protectedHeader.typ !== 'audit-sth') throw new Error(`not a tree head: typ ${protectedHeader.typ}`);
  const head = JSON.parse(new TextDecoder().decode(payload));
  if (head.tree_size !== proof.tree_size) throw new Error('the proof is not for this head (tree_size)');
  const leaf = leafHash(proof.record);
  if (leaf.toString('hex') !== proof.leaf_hash) throw new Error('the record does not hash to leaf_hash');
  const root = rootFromPath(proof.leaf_index, proof.tree_size, leaf, proof.audit_path.map((h) => Buffer.from(h, 'hex')));
  if (!root) throw new Error('the audit path does not fit the tree size');
  if (root.toString('hex') !== head.root_hash) throw new Error('the audit path does not lead to the signed root');
  return head;
}
