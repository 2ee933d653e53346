// The body of an API error as kube-apiserver writes it (metav1.Status), for the tests' API server.
// socksnap only reads these (kubeapi/kube_objects.h's parse_status).
#pragma once

#include <string>

#include "kubeapi/kube_objects.h"

namespace socksnap::test {

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":...,"message":...,"reason":...,
// "code":...}; an empty `status` is written as "Failure".
std::string status_body(const ApiStatus& status);

}  // namespace socksnap::test
