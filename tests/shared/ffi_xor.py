#!/usr/bin/env python3
"""libnn.so from Python through ctypes, the way a binding would use it: the XOR example's
training (examples/xor.c: 2-4-1, tanh then sigmoid, BCE, 2000 epochs of the four points,
learning rate 0.5, seed 42) through the public API alone, with the epoch callback calling back
into Python. Fails unless every output is on the right side of 0.5.

usage: ffi_xor.py LIBNN_SO FFI_LAYOUT
  LIBNN_SO    a path, or a soname that the dynamic loader finds (libnn.so.0.1)
  FFI_LAYOUT  tests/shared/ffi_layout built against the same nn.h: the sizes checked here
"""
import ctypes as C
import subprocess
import sys

# nn.h's values, as a binding would copy them.
NN_OK, NN_ERR_INVALID_ARG = 0, 1
NN_ACT_SIGMOID, NN_ACT_TANH = 1, 2
NN_LOSS_BCE = 2


class Error(C.Structure):
    _fields_ = [("status", C.c_int), ("message", C.c_char * 256)]


class Mat(C.Structure):
    _fields_ = [("rows", C.c_int), ("cols", C.c_int), ("data", C.POINTER(C.c_float))]


class LayerSpec(C.Structure):
    _fields_ = [("units", C.c_int), ("act", C.c_int), ("act_param", C.c_float),
                ("init", C.c_int), ("init_param", C.c_float), ("dropout", C.c_float)]


class ModelOpts(C.Structure):
    _fields_ = [("seed", C.c_uint64), ("alloc", C.c_void_p), ("alloc_user", C.c_void_p),
                ("threads", C.c_int), ("error", C.POINTER(Error)), ("kernel", C.c_int),
                ("deterministic", C.c_bool)]


class OptimOpts(C.Structure):
    _fields_ = [("kind", C.c_int), ("momentum", C.c_float), ("dampening", C.c_float),
                ("nesterov", C.c_bool), ("beta1", C.c_float), ("beta2", C.c_float),
                ("alpha", C.c_float), ("eps", C.c_float), ("weight_decay", C.c_float),
                ("decay_biases", C.c_bool), ("clip_norm", C.c_float)]


class Schedule(C.Structure):
    _fields_ = [("kind", C.c_int), ("step_epochs", C.c_int), ("gamma", C.c_float),
                ("period_epochs", C.c_int), ("min_lr", C.c_float), ("warmup_epochs", C.c_int)]


class EpochInfo(C.Structure):
    _fields_ = [("epoch", C.c_int), ("epochs", C.c_int), ("loss", C.c_double),
                ("accuracy", C.c_double), ("seconds", C.c_double),
                ("learning_rate", C.c_double), ("val_loss", C.c_double),
                ("val_accuracy", C.c_double)]


EpochFn = C.CFUNCTYPE(C.c_int, C.c_void_p, C.POINTER(EpochInfo))


class TrainOpts(C.Structure):
    _fields_ = [("epochs", C.c_int), ("batch_size", C.c_int), ("learning_rate", C.c_float),
                ("loss", C.c_int), ("shuffle_seed", C.c_uint64), ("no_shuffle", C.c_bool),
                ("on_epoch", EpochFn), ("user", C.c_void_p), ("optim", OptimOpts),
                ("schedule", Schedule), ("X_val", C.POINTER(Mat)), ("Y_val", C.POINTER(Mat)),
                ("val_split", C.c_float), ("patience", C.c_int), ("resume", C.c_bool),
                ("class_weights", C.POINTER(C.c_float)), ("n_class_weights", C.c_int)]


MIRRORS = {"nn_error": Error, "nn_mat": Mat, "nn_layer_spec": LayerSpec,
           "nn_model_opts": ModelOpts, "nn_optim_opts": OptimOpts, "nn_schedule": Schedule,
           "nn_epoch_info": EpochInfo, "nn_train_opts": TrainOpts}


def fail(message):
    print(f"ffi_xor: {message}")
    sys.exit(1)


def load(path):
    lib = C.CDLL(path)
    lib.nn_version.restype = C.c_char_p
    lib.nn_version.argtypes = []
    lib.nn_status_message.restype = C.c_char_p
    lib.nn_status_message.argtypes = [C.c_int]
    lib.nn_mat_wrap.restype = Mat  # a struct returned by value
    lib.nn_mat_wrap.argtypes = [C.POINTER(C.c_float), C.c_int, C.c_int]
    lib.nn_model_create.restype = C.c_int
    lib.nn_model_create.argtypes = [C.c_int, C.POINTER(LayerSpec), C.c_int,
                                    C.POINTER(ModelOpts), C.POINTER(C.c_void_p)]
    lib.nn_model_destroy.restype = None
    lib.nn_model_destroy.argtypes = [C.c_void_p]
    lib.nn_model_errmsg.restype = C.c_char_p
    lib.nn_model_errmsg.argtypes = [C.c_void_p]
    lib.nn_train_defaults.restype = TrainOpts  # returned by value, through a hidden pointer
    lib.nn_train_defaults.argtypes = []
    lib.nn_train.restype = C.c_int
    lib.nn_train.argtypes = [C.c_void_p, C.POINTER(Mat), C.POINTER(Mat), C.POINTER(TrainOpts)]
    lib.nn_predict.restype = C.c_int
    lib.nn_predict.argtypes = [C.c_void_p, C.POINTER(Mat), C.POINTER(Mat)]
    return lib


def main():
    library, layout_exe = sys.argv[1:3]
    # The mirrors must be the header's structs: a short one would let libnn write past it.
    layout = dict(line.split(" ", 1) for line in
                  subprocess.run([layout_exe], check=True, capture_output=True,
                                 text=True).stdout.splitlines())
    for name, mirror in MIRRORS.items():
        if int(layout[name]) != C.sizeof(mirror):
            fail(f"sizeof({name}) is {layout[name]} in nn.h, {C.sizeof(mirror)} here: "
                 "update the mirror in this file")
    lib = load(library)
    version = lib.nn_version().decode()
    if version != layout["version"]:
        fail(f"{library} is libnn {version}, nn.h says {layout['version']}")

    # Arguments are checked across the boundary too: n_in = 0 is refused, with a message.
    layers = (LayerSpec * 2)(LayerSpec(units=4, act=NN_ACT_TANH),
                             LayerSpec(units=1, act=NN_ACT_SIGMOID))
    error = Error()
    mopts = ModelOpts(seed=42, error=C.pointer(error))
    model = C.c_void_p()
    status = lib.nn_model_create(0, layers, 2, C.byref(mopts), C.byref(model))
    if status != NN_ERR_INVALID_ARG or error.status != status or b"n_in" not in error.message:
        fail(f"nn_model_create(n_in=0) gave status {status}, message {error.message!r}")
    print(f"   nn_model_create(n_in=0): {lib.nn_status_message(status).decode()}: "
          f"{error.message.decode()}")

    status = lib.nn_model_create(2, layers, 2, C.byref(mopts), C.byref(model))
    if status != NN_OK or not model:
        fail(f"nn_model_create: {status} {error.message!r}")
    x = (C.c_float * 8)(0, 0, 0, 1, 1, 0, 1, 1)
    y = (C.c_float * 4)(0, 1, 1, 0)
    p = (C.c_float * 4)()
    X, Y, P = lib.nn_mat_wrap(x, 4, 2), lib.nn_mat_wrap(y, 4, 1), lib.nn_mat_wrap(p, 4, 1)
    if (X.rows, X.cols, P.rows, P.cols) != (4, 2, 4, 1):
        fail(f"nn_mat_wrap gave ({X.rows}, {X.cols}) and ({P.rows}, {P.cols})")

    losses = []

    def on_epoch(_user, info):
        losses.append((info.contents.epoch, info.contents.loss))
        return 0

    callback = EpochFn(on_epoch)  # kept alive while nn_train runs
    opts = lib.nn_train_defaults()
    if (opts.epochs, opts.batch_size) != (10, 32) or abs(opts.learning_rate - 0.01) > 1e-9:
        fail(f"nn_train_defaults: epochs {opts.epochs}, batch {opts.batch_size}, "
             f"rate {opts.learning_rate} (nn.h documents 10, 32, 0.01)")
    opts.epochs, opts.batch_size, opts.learning_rate = 2000, 4, 0.5
    opts.loss, opts.on_epoch = NN_LOSS_BCE, callback
    status = lib.nn_train(model, C.byref(X), C.byref(Y), C.byref(opts))
    if status == NN_OK:
        status = lib.nn_predict(model, C.byref(X), C.byref(P))
    message = lib.nn_model_errmsg(model).decode()
    lib.nn_model_destroy(model)
    if status != NN_OK:
        fail(f"training: {lib.nn_status_message(status).decode()}: {message}")

    if [epoch for epoch, _ in losses] != list(range(1, 2001)):
        fail(f"on_epoch was called for {len(losses)} epochs, not 1 .. 2000 in order")
    if not losses[-1][1] < losses[0][1] / 10:
        fail(f"the loss went from {losses[0][1]:.4f} to {losses[-1][1]:.4f} only")
    for i in range(4):
        print(f"   {x[2 * i]:g} xor {x[2 * i + 1]:g} -> {p[i]:.4f}")
    wrong = [i for i in range(4) if (p[i] > 0.5) != (y[i] > 0.5)]
    if wrong:
        fail(f"points {wrong} are on the wrong side of 0.5")
    print(f"   libnn {version} from {library} through ctypes: XOR learned, loss "
          f"{losses[0][1]:.4f} -> {losses[-1][1]:.4f} in 2000 epochs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
