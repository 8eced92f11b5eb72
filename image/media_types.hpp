// Media types of the OCI image spec and Docker's image manifest v2.
#pragma once

namespace reproimg::image::media {

inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";

inline constexpr const char* docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* docker_manifest_v1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr const char* docker_manifest_v1_signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr const char* docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* docker_layer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr const char* docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr const char* docker_layer_zstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";

} // namespace reproimg::image::media
