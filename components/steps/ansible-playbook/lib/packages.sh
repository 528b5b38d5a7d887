# Sourced by install.sh (not run on its own): install distribution packages the step needs and
# purge them again. Uses install.sh's work, installed_packages, package_manager, fail and retry.
# shellcheck shell=bash disable=SC2154

# Install with apt-get or dnf (yum), remembering which packages were not installed before
# (dependencies included), so that cleanup() removes exactly those.
package_manager=none
install_packages() {
  local apt_names=() rpm_names=() name
  for name in "$@"; do
    case "${name}" in
      apt:*) apt_names+=("${name#apt:}") ;;
      rpm:*) rpm_names+=("${name#rpm:}") ;;
      *) apt_names+=("${name}"); rpm_names+=("${name}") ;;
    esac
  done
  if command -v apt-get >/dev/null 2>&1; then
    apt_install "${apt_names[@]}"
  elif command -v dnf >/dev/null 2>&1; then
    rpm_install dnf "${rpm_names[@]}"
  elif command -v yum >/dev/null 2>&1; then
    rpm_install yum "${rpm_names[@]}"
  else
    fail "${rpm_names[*]} missing and neither apt-get nor dnf nor yum is there to install them"
  fi
}

rpm_install() {
  local tool=$1 before="${work}/packages.before" after="${work}/packages.after" new
  shift
  package_manager=rpm
  rpm -qa --qf '%{NAME}\n' | sort -u > "${before}"
  retry "${tool}" -y install "$@"
  rpm -qa --qf '%{NAME}\n' | sort -u > "${after}"
  mapfile -t new < <(comm -13 "${before}" "${after}")
  installed_packages+=("${new[@]}")
}

# apt-get install, remembering which packages were not installed before (dependencies included).
# They are marked automatic, so that a playbook installing one of them marks it manual again.
apt_updated=false
apt_install() {
  package_manager=apt
  export DEBIAN_FRONTEND=noninteractive
  local before="${work}/packages.before" after="${work}/packages.after"
  dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" { print $2 }' | sort -u > "${before}"
  if [ "${apt_updated}" = false ]; then
    retry apt-get -o DPkg::Lock::Timeout=600 update
    apt_updated=true
  fi
  retry apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@"
  dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" { print $2 }' | sort -u > "${after}"
  local new
  mapfile -t new < <(comm -13 "${before}" "${after}")
  if [ "${#new[@]}" -gt 0 ]; then
    apt-mark auto "${new[@]}" >/dev/null
    installed_packages+=("${new[@]}")
  fi
}

# Purge the distribution packages this script installed, unless the playbook now needs them: it
# marked them manually installed (apt does so when asked to install a package that is present), or
# purging them would also remove packages it installed. Those stay, marked automatic.
# shellcheck disable=SC2329 # called by cleanup, the EXIT trap
purge_packages() {
  if [ "${#installed_packages[@]}" -eq 0 ]; then return 0; fi
  if [ "${package_manager}" = rpm ]; then
    # rpm cannot tell what the playbook asked for; keep the packages when anything now needs them.
    if ! rpm -e --test "${installed_packages[@]}" >/dev/null 2>&1; then
      echo "ansible-playbook: not removing ${installed_packages[*]}: other packages now need them" >&2
      return 0
    fi
    echo "ansible-playbook: removing the packages it installed: ${installed_packages[*]}"
    rpm -e "${installed_packages[@]}"
    return
  fi
  local ours removing extra
  mapfile -t ours < <(apt-mark showauto "${installed_packages[@]}" | sort -u)
  if [ "${#ours[@]}" -eq 0 ]; then
    echo "ansible-playbook: the playbook keeps ${installed_packages[*]}; nothing to purge"
    return 0
  fi
  mapfile -t removing < <(apt-get -s purge "${ours[@]}" | awk '$1 == "Purg" { sub(/:.*/, "", $2); print $2 }' | sort -u)
  mapfile -t extra < <(comm -23 <(printf '%s\n' "${removing[@]}") <(printf '%s\n' "${ours[@]}"))
  if [ "${#extra[@]}" -gt 0 ]; then
    echo "ansible-playbook: not purging ${ours[*]}: that would also remove ${extra[*]}" >&2
    return 0
  fi
  echo "ansible-playbook: purging the packages it installed: ${ours[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y "${ours[@]}"
}

