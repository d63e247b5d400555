const big = (n) => n >= 1 << 20;
const seen = new Map();
const note = (what) => { const st = new Error().stack.split('\n').slice(2, 9).join(' | '); const k = what + st; if (!seen.has(k)) { seen.set(k, 1); console.error('BIG', what, st); } };
for (const f of ['alloc', 'allocUnsafe', 'allocUnsafeSlow']) { const o = Buffer[f]; Buffer[f] = function (n, ...a) { if (big(n)) note(f + ' ' + n); return o.call(this, n, ...a); }; }
const oc = Buffer.concat; Buffer.concat = function (l, n) { const r = oc.call(this, l, n); if (big(r.length)) note('concat ' + r.length); return r; };
const os = Uint8Array.prototype.slice; Uint8Array.prototype.slice = function (...a) { const r = os.apply(this, a); if (big(r.length) && !Buffer.isBuffer(this)) note('u8slice ' + r.length); return r; };
const ob = ArrayBuffer.prototype.slice; ArrayBuffer.prototype.slice = function (...a) { const r = ob.apply(this, a); if (big(r.byteLength)) note('abslice ' + r.byteLength); return r; };
