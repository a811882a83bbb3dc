# make deb: install rules and the CPack DEB recipe (isoscope_<version>_amd64.deb). Paths under
# /etc and /lib are absolute on purpose: they are where Debian wants them whatever the prefix.
# Stage with DESTDIR (cmake --install --prefix would write to the real /etc).
include(GNUInstallDirs)
# install (and so cpack) must not build everything first: with the tests configured that is
# every test binary. make deb builds isoscope and package_docs itself, make test has built all.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(PKG_DIR ${PROJECT_SOURCE_DIR}/packaging)
# The what-if page (make panel builds it into <build>/panel/dist); optional for a plain install.
set(ISOSCOPE_UI_DIR ${PROJECT_BINARY_DIR}/panel/dist CACHE PATH "Built what-if page to install")

install(TARGETS isoscope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${ISOSCOPE_UI_DIR}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/isoscope/ui OPTIONAL)
install(FILES ${PKG_DIR}/isoscope.service DESTINATION /lib/systemd/system)
install(FILES ${PKG_DIR}/isoscope.default DESTINATION /etc/default RENAME isoscope)
install(FILES ${PKG_DIR}/isoscope.yml DESTINATION /etc/isoscope)
# lintian wants the changelog and man page compressed with gzip -9n (no timestamp: reproducible).
foreach(f changelog isoscope.1)
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/packaging/${f}.gz DEPENDS ${PKG_DIR}/${f}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
    COMMAND gzip -9n -c ${PKG_DIR}/${f} > ${PROJECT_BINARY_DIR}/packaging/${f}.gz)
endforeach()
add_custom_target(package_docs ALL DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog.gz
                                           ${PROJECT_BINARY_DIR}/packaging/isoscope.1.gz)
install(FILES ${PKG_DIR}/copyright ${PROJECT_BINARY_DIR}/packaging/changelog.gz
              ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_BINARY_DIR}/packaging/isoscope.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME isoscope)
set(CPACK_PACKAGE_CONTACT "isoscope developers <dev@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Isolation Forest anomaly scores for Prometheus")
set(CPACK_PACKAGE_DESCRIPTION
    "isoscope queries the Prometheus HTTP API, trains Isolation Forest models\n(bit-identical to scikit-learn) on the history and serves anomaly scores on\n/metrics, with a what-if page for alert thresholds.")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/isoscope")
set(ctl conffiles postinst prerm postrm)
list(TRANSFORM ctl PREPEND ${PKG_DIR}/debian/)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${ctl}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/deb)
include(CPack)
