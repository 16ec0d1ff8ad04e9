#!/usr/bin/env python3
"""PyTorch reference of recjpq's SASRec-RecJPQ training step, for side-by-side throughput.

The same model as recjpq's `sasrec` with `--embedding jpq` and the pre-LN block: item embedding =
concatenation of m codebook rows (256 x d/m each) picked by fixed codes, scaled by sqrt(d), plus a
learned position; L pre-LN blocks (LN -> Q/K/V with bias -> causal + key-padding attention ->
output projection -> residual; LN -> FFN W2 relu(W1 x) -> residual; PAD rows zeroed); a final LN;
scores against the same RecJPQ item embeddings (tied). Losses: BCE with n uniform negatives, gBCE
(gSASRec's beta on the positive term) and full softmax CE (materialised logits, the straightforward
PyTorch way). Adam (beta 0.9/0.98), gradient clipping at 5, dropout as given. FP32 everywhere
(TF32 off unless --tf32), as recjpq's default.

Data: a `user item` text file in time order (SASRec pairs, e.g. ML-1M's ml-1m.txt, or the file
`recjpq synth --format sasrec-pairs` writes). Each user's training sequence drops the last two
items (leave-one-out), as recjpq does. Codes are random (throughput does not depend on them).

Prints one JSON object: seqs_per_s and tokens_per_s (batch x length / median step time, the
definition `recjpq bench train` uses), median_step_ms, peak_memory_mib.

  python3 benchmarks/pytorch_sasrec_jpq.py --input ml-1m.txt --loss bce --seconds 20
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_sequences(path):
    users = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            users.setdefault(parts[0], []).append(parts[1])
    vocab = {}
    seqs = []
    for items in users.values():
        if len(items) < 3:
            continue
        seqs.append([vocab.setdefault(i, len(vocab)) for i in items[:-2]])
    return seqs, len(vocab)


class JpqItems(torch.nn.Module):
    def __init__(self, n_items, dim, splits, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.splits, self.sub = splits, dim // splits
        self.register_buffer("codes", torch.randint(0, 256, (n_items, splits), generator=g))
        self.codebooks = torch.nn.Parameter(torch.randn(splits, 256, self.sub, generator=g) * 0.05)
        self.register_buffer("split_index", torch.arange(splits))

    def embed(self, ids):  # ids >= 0 -> (..., d)
        c = self.codes[ids]  # (..., m)
        return self.codebooks[self.split_index, c].flatten(-2)  # (..., m, s) -> (..., d)

    def table(self):  # all items (N, d)
        return self.codebooks[self.split_index, self.codes].flatten(-2)


class Block(torch.nn.Module):
    def __init__(self, d, ffn, dropout):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(d, eps=1e-8), torch.nn.LayerNorm(d, eps=1e-8)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.out = torch.nn.Linear(d, d)
        self.w1, self.w2 = torch.nn.Linear(d, ffn), torch.nn.Linear(ffn, d)
        self.dropout = dropout

    def forward(self, x, mask, keep):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        a = F.scaled_dot_product_attention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1), attn_mask=mask,
                                           dropout_p=0.0).squeeze(1)
        x = x + F.dropout(self.out(a), self.dropout, self.training)
        x = x + F.dropout(self.w2(F.relu(self.w1(self.ln2(x)))), self.dropout, self.training)
        return x * keep


class SasRecJpq(torch.nn.Module):
    def __init__(self, n_items, d, splits, blocks, length, ffn, dropout, seed):
        super().__init__()
        self.items = JpqItems(n_items, d, splits, seed)
        self.pos = torch.nn.Parameter(torch.randn(length, d) * 0.05)
        self.blocks = torch.nn.ModuleList(Block(d, ffn, dropout) for _ in range(blocks))
        self.ln = torch.nn.LayerNorm(d, eps=1e-8)
        self.d, self.dropout = d, dropout

    def forward(self, ids):
        pad = ids < 0
        keep = (~pad).unsqueeze(-1).float()
        x = (self.items.embed(ids.clamp(min=0)) * math.sqrt(self.d) + self.pos) * keep
        x = F.dropout(x, self.dropout, self.training)
        t = ids.shape[1]
        causal = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()
        mask = (causal.unsqueeze(0) & ~pad.unsqueeze(1)).unsqueeze(1)  # (b, 1, t, t): True = attend
        mask = mask | torch.eye(t, dtype=torch.bool, device=ids.device)  # PAD queries: no empty rows
        for blk in self.blocks:
            x = blk(x, mask, keep)
        return self.ln(x)


def make_batch(seqs, order, start, batch, length, device):
    ids = np.full((batch, length), -1, dtype=np.int64)
    tgt = np.full((batch, length), -1, dtype=np.int64)
    for r in range(batch):
        s = seqs[order[(start + r) % len(order)]]
        inp, out = s[:-1][-length:], s[1:][-length:]
        ids[r, length - len(inp):] = inp
        tgt[r, length - len(out):] = out
    return torch.from_numpy(ids).to(device), torch.from_numpy(tgt).to(device)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", required=True)
    p.add_argument("--loss", choices=["bce", "gbce", "ce"], default="bce")
    p.add_argument("--negatives", type=int, default=None, help="default: 1 for bce, 256 for gbce")
    p.add_argument("--gbce-t", type=float, default=0.75)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--splits", type=int, default=8)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--ffn-dim", type=int, default=None, help="default: dim")
    p.add_argument("--max-len", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--warmup-steps", type=int, default=5)
    p.add_argument("--tf32", action="store_true")
    p.add_argument("--device", default="cuda")
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    seqs, n_items = load_sequences(a.input)
    negatives = a.negatives if a.negatives is not None else (256 if a.loss == "gbce" else 1)
    model = SasRecJpq(n_items, a.dim, a.splits, a.blocks, a.max_len, a.ffn_dim or a.dim, a.dropout, a.seed).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.98), eps=1e-8)
    alpha = negatives / (n_items - 1)
    beta = alpha * (a.gbce_t * (1 - 1 / alpha) + 1 / alpha) if a.loss == "gbce" else 1.0
    order = np.random.default_rng(a.seed).permutation(len(seqs))

    def step(start):
        ids, tgt = make_batch(seqs, order, start, a.batch_size, a.max_len, dev)
        h = model(ids)
        valid = tgt >= 0
        hv, tv = h[valid], tgt[valid]  # (rows, d), (rows,)
        if a.loss == "ce":
            logits = hv @ model.items.table().T
            loss = F.cross_entropy(logits, tv)
        else:
            neg = torch.randint(0, n_items, (tv.shape[0], negatives), device=dev)
            e_pos = model.items.embed(tv)
            e_neg = model.items.embed(neg)
            s_pos = (hv * e_pos).sum(-1)
            s_neg = torch.einsum("rd,rnd->rn", hv, e_neg)
            loss = ((beta * F.softplus(-s_pos) + F.softplus(s_neg).sum(-1)) / (negatives + 1)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss

    model.train()
    pos = 0
    for _ in range(a.warmup_steps):
        step(pos)
        pos += a.batch_size
    torch.cuda.synchronize(dev) if dev.type == "cuda" else None
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    times = []
    t_end = time.perf_counter() + a.seconds
    last = None
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        last = step(pos).item()  # .item() waits for the step, as recjpq's step returns its loss
        times.append(time.perf_counter() - t0)
        pos += a.batch_size
    med = float(np.median(times))
    out = {
        "impl": "pytorch " + torch.__version__,
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "loss": a.loss, "negatives": negatives if a.loss != "ce" else 0, "items": n_items,
        "dim": a.dim, "splits": a.splits, "blocks": a.blocks, "max_len": a.max_len, "batch_size": a.batch_size,
        "seqs_per_s": round(a.batch_size / med, 1), "tokens_per_s": round(a.batch_size * a.max_len / med),
        "median_step_ms": round(med * 1000, 2), "steps": len(times), "last_loss": last,
        "peak_memory_mib": (torch.cuda.max_memory_allocated(dev) >> 20) if dev.type == "cuda" else None,
        "tf32": a.tf32,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
