#!/usr/bin/python3
"""Prints tests/ref/optim_ref.h: a small network's weights after STEPS steps of each
torch.optim optimizer that libnn offers, for tests/test_optim.c to compare with.

    /usr/bin/python3 tests/ref/make_optim_ref.py > tests/ref/optim_ref.h

The network is libnn's 3-5-4, tanh then softmax, trained full-batch on 8 samples with the
cross-entropy of class indices: Linear(3, 5), Tanh, Linear(5, 4) and CrossEntropyLoss, all
in float32 (the precision libnn works in), from initial weights and data drawn here.

Each configuration is written as the nn_optim_opts a C programmer would give, zero fields
left out; the same fields go to torch.optim under their PyTorch names, and the fields left
out are left out there too, so that PyTorch's own defaults are what libnn's zeros are
checked against. Hyper-parameters are rounded to float32 before PyTorch sees them, as libnn
only ever has the float32 value. Weight decay applies to the weights only unless the
configuration says decay_biases (a second parameter group with weight_decay=0 for the
biases); clip_norm calls torch.nn.utils.clip_grad_norm_ on all parameters before each step.
Needs Debian's python3-torch (1.13).
"""
import inspect
import struct

import torch

torch.manual_seed(20240607)
torch.set_default_dtype(torch.float32)
IN, HIDDEN, OUT, ROWS, STEPS = 3, 5, 4, 8, 10

W0 = torch.randn(HIDDEN, IN) * 0.7
b0 = torch.randn(HIDDEN) * 0.3
W1 = torch.randn(OUT, HIDDEN) * 0.7
b1 = torch.randn(OUT) * 0.3
X = torch.randn(ROWS, IN)
LABELS = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])

# (name, kind, fields of nn_optim_opts that are not 0, learning rate)
CONFIGS = [
    ("sgd", "SGD", {}, 0.1),
    ("sgd_momentum", "SGD", {"momentum": 0.9}, 0.1),
    ("sgd_dampening_wd", "SGD", {"momentum": 0.8, "dampening": 0.25, "weight_decay": 0.02}, 0.1),
    ("sgd_nesterov_wd", "SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, 0.1),
    ("sgd_clip_decay_biases", "SGD",
     {"momentum": 0.5, "weight_decay": 0.05, "decay_biases": True, "clip_norm": 0.5}, 0.2),
    ("adam", "ADAM", {}, 0.01),
    ("adam_wd", "ADAM", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05}, 0.01),
    ("adamw", "ADAMW", {}, 0.01),
    ("adamw_clip_decay_biases", "ADAMW",
     {"weight_decay": 0.1, "decay_biases": True, "clip_norm": 1.2}, 0.02),
    ("rmsprop", "RMSPROP", {}, 0.01),
    ("rmsprop_momentum_wd", "RMSPROP",
     {"momentum": 0.9, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01}, 0.005),
]

TORCH_CLASS = {"SGD": torch.optim.SGD, "ADAM": torch.optim.Adam,
               "ADAMW": torch.optim.AdamW, "RMSPROP": torch.optim.RMSprop}


def f32(x):
    """x rounded to float32, as a Python float."""
    return struct.unpack("f", struct.pack("f", x))[0]


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


def torch_hyper(kind, fields):
    """torch.optim keyword arguments for the fields libnn's group of weights has."""
    hyper = {}
    for key in ("momentum", "dampening", "alpha", "eps", "weight_decay"):
        if key in fields:
            hyper[key] = f32(fields[key])
    if fields.get("nesterov"):
        hyper["nesterov"] = True
    if "beta1" in fields or "beta2" in fields:
        default = inspect.signature(TORCH_CLASS[kind]).parameters["betas"].default
        hyper["betas"] = (f32(fields.get("beta1", default[0])),
                          f32(fields.get("beta2", default[1])))
    return hyper


def run(kind, fields, lr):
    """The flat parameters (W0, b0, W1, b1) after STEPS steps, and the steps clipped."""
    l0, l1 = torch.nn.Linear(IN, HIDDEN), torch.nn.Linear(HIDDEN, OUT)
    with torch.no_grad():
        for p, init in ((l0.weight, W0), (l0.bias, b0), (l1.weight, W1), (l1.bias, b1)):
            p.copy_(init)
    net = torch.nn.Sequential(l0, torch.nn.Tanh(), l1)
    weights, biases = [l0.weight, l1.weight], [l0.bias, l1.bias]
    if fields.get("decay_biases"):
        groups = [{"params": weights + biases}]
    else:
        groups = [{"params": weights}, {"params": biases, "weight_decay": 0.0}]
    opt = TORCH_CLASS[kind](groups, lr=f32(lr), **torch_hyper(kind, fields))
    loss_fn = torch.nn.CrossEntropyLoss(reduction="mean")
    clipped = 0
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(net(X), LABELS).backward()
        if "clip_norm" in fields:
            norm = torch.nn.utils.clip_grad_norm_(net.parameters(), f32(fields["clip_norm"]))
            clipped += int(f32(fields["clip_norm"]) / (norm.item() + 1e-6) < 1.0)
        opt.step()
    flat = torch.cat([l0.weight.flatten(), l0.bias, l1.weight.flatten(), l1.bias])
    return flat.detach().tolist(), clipped


def c_fields(kind, fields):
    parts = [".kind = NN_OPT_%s" % kind]
    for key, value in fields.items():
        if isinstance(value, bool):
            parts.append(".%s = true" % key)
        else:
            parts.append(".%s = %sf" % (key, repr(value)))
    lines = [parts[0]]
    for part in parts[1:]:  # lines of at most 100 characters in the header
        if len(lines[-1]) + len(part) > 80:
            lines.append(part)
        else:
            lines[-1] += ", " + part
    return "{%s}" % ",\n      ".join(lines)


results = [(name, kind, fields, lr) + run(kind, fields, lr) for name, kind, fields, lr in CONFIGS]
for name, kind, fields, lr, _, clipped in results:
    if "clip_norm" in fields:  # the clipped and the unclipped path both ran
        assert 0 < clipped < STEPS, (name, clipped)

init = torch.cat([W0.flatten(), b0, W1.flatten(), b1]).tolist()
n_params = len(init)
print("/* Generated by tests/ref/make_optim_ref.py with PyTorch %s; do not edit:"
      % torch.__version__)
print(" *     /usr/bin/python3 tests/ref/make_optim_ref.py > tests/ref/optim_ref.h")
print(" * A 3-5-4 network (tanh, then softmax with cross-entropy on class indices), full batch")
print(" * of 8 rows, float32: its parameters W0, b0, W1, b1 after %d steps of each optimizer."
      % STEPS)
print(" * Shape letters: B rows, I inputs, P parameters. */")
print("#ifndef NN_TEST_OPTIM_REF_H")
print("#define NN_TEST_OPTIM_REF_H")
print()
print('#include "nn.h"')
print()
print("enum { OPTIM_REF_IN = %d, OPTIM_REF_HIDDEN = %d, OPTIM_REF_OUT = %d, OPTIM_REF_ROWS = %d,"
      % (IN, HIDDEN, OUT, ROWS))
print("       OPTIM_REF_STEPS = %d, OPTIM_REF_PARAMS = %d };" % (STEPS, n_params))
print()
print("/* (P) the initial parameters */")
print(array("optim_ref_init", init))
print("/* (B, I) the inputs */")
print(array("optim_ref_x", X.flatten().tolist()))
print("/* (B, 1) the class labels */")
print(array("optim_ref_y", LABELS.to(torch.float32).tolist()))
for name, kind, fields, lr, params, clipped in results:
    if "clip_norm" in fields:
        print("/* %s: %d of the %d steps were clipped */" % (name, clipped, STEPS))
    print(array("optim_ref_%s" % name, params))
print("typedef struct optim_ref {")
print("    const char *name;")
print("    float learning_rate;")
print("    const float *params; /* (P) after OPTIM_REF_STEPS steps */")
print("    nn_optim_opts opts;")
print("} optim_ref;")
print()
print("static const optim_ref optim_refs[] = {")
for name, kind, fields, lr, params, clipped in results:
    print('    {"%s", %sf, optim_ref_%s,' % (name, repr(lr), name))
    print('     %s},' % c_fields(kind, fields))
print("};")
print()
print("#endif /* NN_TEST_OPTIM_REF_H */")
