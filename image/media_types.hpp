// Media types of the OCI image spec and Docker's image manifest v2.
#pragma once

namespace reproimg::image::media {

inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";

} // namespace reproimg::image::media
