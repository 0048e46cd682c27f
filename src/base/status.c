/* Status messages and the version string. */
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
