#!/usr/bin/python3
"""Prints tests/ref/class_weight_ref.h: PyTorch's class-weighted losses, their gradients, and
a small network's weights after a few SGD steps on a class-weighted loss.

    /usr/bin/python3 tests/ref/make_class_weight_ref.py > tests/ref/class_weight_ref.h

libnn's weighted loss is sum(w * l) / sum(w) over a batch (nn_train_opts.class_weights):
    CE, class indices   torch.nn.CrossEntropyLoss(weight=w), reduction='mean': exactly this
    CE, one-hot or      CrossEntropyLoss(weight=w, reduction='sum') / sum_rows sum_j w_j y_j
      probability rows  (PyTorch's 'mean' divides these by the batch size instead)
    BCE                 BCEWithLogitsLoss(weight=v, reduction='sum') / sum(v), where each
                        element's weight is v = w0 * (1 - y) + w1 * y
Loss cases draw float32 inputs and let PyTorch compute in float64 from exactly those, so the
reference carries no rounding of its own. Training cases run in float32, as libnn does: a
3-5-4 tanh/softmax network (CE with class indices) and a 3-4-1 tanh/sigmoid one (BCE), full
batch, plain SGD, from initial weights drawn here. Needs Debian's python3-torch (1.13).
"""
import torch

torch.manual_seed(20261205)
F32, F64 = torch.float32, torch.float64


def lit(x):
    """A C float literal with 9 significant digits: round-trips every float32 exactly."""
    s = "%.9g" % x
    if not any(c in s for c in ".en"):
        s += ".0"
    return s + "f"


def array(name, values):
    vals = [lit(v) for v in values]
    rows = [", ".join(vals[i:i + 6]) for i in range(0, len(vals), 6)]
    return "static const float %s[%d] = {\n    %s,\n};\n" % (name, len(vals), ",\n    ".join(rows))


def weighted_loss(kind, out, y, w):
    """libnn's weighted mean loss of out (logits) against y, in out's precision."""
    if kind == "NN_LOSS_BCE":
        v = w[0] * (1 - y) + w[1] * y
        total = torch.nn.BCEWithLogitsLoss(weight=v, reduction="sum")(out, y)
        return total / v.sum()
    if y.dim() == 1:  # class indices
        return torch.nn.CrossEntropyLoss(weight=w, reduction="mean")(out, y)
    total = torch.nn.CrossEntropyLoss(weight=w, reduction="sum")(out, y)
    return total / (y * w).sum()


# ----------------------------------------------------------------- losses

loss_cases = []  # (name, enum, out32, y for C (float32, 2-D), w32, value, grad)


def loss_case(name, kind, out, y, w):
    out32, w32 = out.to(F32), w.to(F32)
    y_torch = y if y.dtype == torch.long else y.to(F32).to(F64)
    o = out32.to(F64).clone().requires_grad_(True)
    value = weighted_loss(kind, o, y_torch, w32.to(F64))
    value.backward()
    y_c = y.to(F32).reshape(-1, 1) if y.dtype == torch.long else y.to(F32)
    loss_cases.append((name, kind, out32, y_c, w32, value.item(), o.grad.flatten().tolist()))


labels = torch.tensor([0, 2, 1, 1, 2, 2, 0])
loss_case("ce_index_7x3", "NN_LOSS_CE", torch.randn(7, 3) * 2.0, labels,
          torch.tensor([0.2, 1.0, 3.5]))
logits = torch.randn(4, 10) * 3.0
logits[1, :] = torch.tensor([1e4, -1e4, 0.0, 1e4, -1e4, 5.0, -1e4, 1e4, 0.0, -1e4])
loss_case("ce_index_4x10", "NN_LOSS_CE", logits, torch.tensor([7, 4, 9, 0]),
          torch.rand(10) * 2.0)
loss_case("ce_zero_class_5x3", "NN_LOSS_CE", torch.randn(5, 3), torch.tensor([0, 1, 0, 2, 1]),
          torch.tensor([0.0, 1.0, 2.0]))
onehot = torch.nn.functional.one_hot(labels, 3).to(F32)
loss_case("ce_onehot_7x3", "NN_LOSS_CE", torch.randn(7, 3) * 2.0, onehot,
          torch.tensor([0.2, 1.0, 3.5]))
loss_case("ce_prob_5x4", "NN_LOSS_CE", torch.randn(5, 4) * 2.0,
          torch.softmax(torch.randn(5, 4), dim=1), torch.tensor([1.5, 0.25, 1.0, 4.0]))
bce_y = torch.cat([torch.tensor([[0.0, 1.0, 0.3], [1.0, 1.0, 0.9], [0.0, 0.0, 0.0],
                                 [1.0, 0.0, 0.5], [0.0, 1.0, 1.0], [1.0, 0.0, 0.2]])], 0)
bce_out = torch.randn(6, 3) * 3.0
bce_out[0, 0] = 100.0
bce_out[1, 1] = -100.0
loss_case("bce_6x3", "NN_LOSS_BCE", bce_out, bce_y, torch.tensor([0.25, 3.0]))

# ---------------------------------------------------------------- training

train_cases = []  # (name, enum, IN, HIDDEN, OUT, X, y for C, w, lr, steps, init, final)


def train_case(name, kind, n_in, hidden, n_out, rows, y, w, lr, steps):
    torch.set_default_dtype(F32)
    l0, l1 = torch.nn.Linear(n_in, hidden), torch.nn.Linear(hidden, n_out)
    with torch.no_grad():
        for p in (l0.weight, l0.bias, l1.weight, l1.bias):
            p.copy_(torch.randn(p.shape) * 0.7)
    X = torch.randn(rows, n_in)
    params = [l0.weight, l0.bias, l1.weight, l1.bias]
    init = torch.cat([p.detach().flatten() for p in params]).tolist()
    net = torch.nn.Sequential(l0, torch.nn.Tanh(), l1)
    opt = torch.optim.SGD(params, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        weighted_loss(kind, net(X), y, w).backward()
        opt.step()
    final = torch.cat([p.detach().flatten() for p in params]).tolist()
    y_c = y.to(F32).reshape(-1, 1) if y.dtype == torch.long else y
    train_cases.append((name, kind, n_in, hidden, n_out, X, y_c, w, lr, steps, init, final))


# Imbalanced: 9 of class 0, 2 of class 1, 1 of class 2; weights as sklearn's "balanced".
train_labels = torch.tensor([0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0])
counts = torch.bincount(train_labels, minlength=4).to(F32)
balanced = torch.where(counts > 0, len(train_labels) / (4 * counts.clamp(min=1)), 0.0)
train_case("ce_3_5_4", "NN_LOSS_CE", 3, 5, 4, 12, train_labels, balanced.to(F32), 0.5, 3)
train_case("bce_3_4_1", "NN_LOSS_BCE", 3, 4, 1, 10,
           torch.tensor([[0.0], [0.0], [1.0], [0.0], [0.0], [0.0], [0.0], [1.0], [0.0], [0.0]]),
           torch.tensor([0.625, 2.5]), 0.5, 3)

# ------------------------------------------------------------------ output

print("/* Generated by tests/ref/make_class_weight_ref.py with PyTorch %s; do not edit:"
      % torch.__version__)
print(" *     /usr/bin/python3 tests/ref/make_class_weight_ref.py > tests/ref/class_weight_ref.h")
print(" * Class-weighted losses sum(w * l) / sum(w) and their gradients (float64 from float32")
print(" * inputs), and parameters after SGD steps on such a loss (float32).")
print(" * Shape letters: B rows, O outputs, P parameters; y is (B, O), or (B, 1) class indices. */")
print("#ifndef NN_TEST_CLASS_WEIGHT_REF_H")
print("#define NN_TEST_CLASS_WEIGHT_REF_H")
print()
print('#include "nn.h"')
print()
for (name, kind, out, y, w, value, grad) in loss_cases:
    print(array("%s_out" % name, out.flatten().tolist()))
    print(array("%s_y" % name, y.flatten().tolist()))
    print(array("%s_w" % name, w.tolist()))
    print(array("%s_grad" % name, grad))
print("typedef struct cw_loss_ref {")
print("    const char *name;")
print("    nn_loss loss;")
print("    int rows, cols, ycols, n_weights;")
print("    const float *out;  /* (B, O) logits */")
print("    const float *y;    /* (B, ycols) */")
print("    const float *w;    /* (n_weights) */")
print("    double value;      /* the weighted mean loss */")
print("    const float *grad; /* (B, O) dL/dout */")
print("} cw_loss_ref;")
print()
print("static const cw_loss_ref cw_loss_refs[] = {")
for (name, kind, out, y, w, value, grad) in loss_cases:
    print('    {"%s", %s, %d, %d, %d, %d, %s_out, %s_y, %s_w, %.17g, %s_grad},'
          % (name, kind, out.shape[0], out.shape[1], y.shape[1], len(w), name, name, name,
             value, name))
print("};")
print()
for (name, kind, n_in, hidden, n_out, X, y, w, lr, steps, init, final) in train_cases:
    print(array("%s_x" % name, X.flatten().tolist()))
    print(array("%s_y" % name, y.flatten().tolist()))
    print(array("%s_w" % name, w.tolist()))
    print(array("%s_init" % name, init))
    print(array("%s_final" % name, final))
print("typedef struct cw_train_ref {")
print("    const char *name;")
print("    nn_loss loss;")
print("    int n_in, hidden, n_out, rows, ycols, n_weights;")
print("    const float *x, *y, *w;")
print("    float learning_rate;")
print("    int steps;          /* full-batch SGD steps */")
print("    const float *init;  /* (P) W0, b0, W1, b1 before */")
print("    const float *final; /* (P) after */")
print("} cw_train_ref;")
print()
print("static const cw_train_ref cw_train_refs[] = {")
for (name, kind, n_in, hidden, n_out, X, y, w, lr, steps, init, final) in train_cases:
    print('    {"%s", %s, %d, %d, %d, %d, %d, %d, %s_x, %s_y, %s_w, %sf, %d, %s_init, %s_final},'
          % (name, kind, n_in, hidden, n_out, X.shape[0], y.shape[1], len(w), name, name, name,
             repr(lr), steps, name, name))
print("};")
print()
print("#endif /* NN_TEST_CLASS_WEIGHT_REF_H */")
