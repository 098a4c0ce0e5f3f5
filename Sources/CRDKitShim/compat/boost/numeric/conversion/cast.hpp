// Stand-in for Boost 1.74's boost/numeric/conversion/cast.hpp.
//
// Boost 1.74's numeric_cast instantiates integral_wrapper templates that clang >= 20 rejects
// ("non-type template argument is not a constant expression", -Wenum-constexpr-conversion can no
// longer be disabled). RDKit 2022.09 uses numeric_cast<float>(double) in RDValue-taggedunion.h.
// This header keeps the same include guard so the real one is never parsed, keeps the converter
// declarations that lexical_cast needs, and defines numeric_cast as a range-checked static_cast
// throwing the same exception types as Boost.
#ifndef BOOST_NUMERIC_CONVERSION_CAST_25OCT2001_HPP
#define BOOST_NUMERIC_CONVERSION_CAST_25OCT2001_HPP

#include <limits>
#include <type_traits>
#include <boost/numeric/conversion/converter.hpp>

namespace boost {
template <typename Target, typename Source>
inline Target numeric_cast(Source value) {
  if constexpr (std::is_arithmetic<Source>::value && std::is_arithmetic<Target>::value) {
    using Limits = std::numeric_limits<Target>;
    if constexpr (std::is_floating_point<Target>::value) {
      if constexpr (std::is_floating_point<Source>::value) {
        if (value == value) {  // NaN passes through, as in Boost
          if (static_cast<long double>(value) > static_cast<long double>(Limits::max()))
            throw numeric::positive_overflow();
          if (static_cast<long double>(value) < static_cast<long double>(Limits::lowest()))
            throw numeric::negative_overflow();
        }
      }
    } else {
      if (static_cast<long double>(value) > static_cast<long double>(Limits::max()))
        throw numeric::positive_overflow();
      if (static_cast<long double>(value) < static_cast<long double>(Limits::lowest()))
        throw numeric::negative_overflow();
    }
  }
  return static_cast<Target>(value);
}
}  // namespace boost

#endif
