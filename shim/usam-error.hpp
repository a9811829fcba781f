/* usam-error.hpp — the one exception type inside the shim.
 *
 * Every failure inside shim/ is thrown as usam::Error and turned into a
 * usam_sam_status plus a one-line message at the C boundary (usam-sam.cpp).
 */
#pragma once

#include <stdexcept>
#include <string>

#include "usam-sam.h"

namespace usam {

class Error : public std::runtime_error
{
public:
  Error (usam_sam_status status, const std::string &message)
    : std::runtime_error (message), status_ (status) {}

  usam_sam_status status () const { return status_; }

private:
  usam_sam_status status_;
};

[[noreturn]] inline void
fail (usam_sam_status status, const std::string &message)
{
  throw Error (status, message);
}

} // namespace usam
