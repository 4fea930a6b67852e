// Asio and Beast compiled once for the whole program (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set on every target that includes them), which keeps every
// other translation unit that uses them much faster to build. Asio's TLS layer (over OpenSSL) is
// compiled here as well, for the webhook sender's https:// deliveries.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
