/* Status messages, detail messages and the version string. */
#include <stdarg.h>
#include <stdio.h>

#include "base/base.h"

const char *nn_version(void)
{
    return NN_VERSION_STRING;
}

const char *nn_status_message(nn_status status)
{
    switch (status) {
#define NN_STATUS_CASE_(name, code, msg) \
    case name:                           \
        return msg;
        NN_STATUS_LIST(NN_STATUS_CASE_)
#undef NN_STATUS_CASE_
    }
    return "unknown status code";
}

nn_status nn__fail(char *msg, nn_status status, const char *fmt, ...)
{
    if (msg) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(msg, NN_ERRMSG_SIZE, fmt, args);
        va_end(args);
    }
    return status;
}

void nn__error_set(nn_error *err, nn_status status, const char *message)
{
    if (!err)
        return;
    err->status = status;
    snprintf(err->message, sizeof err->message, "%s", status == NN_OK ? "" : message);
}
