# Install the pinned Octopus Tentacle MSI; no instance is created, so nothing is registered or running.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$msi = $env:GI_DOWNLOAD_OCTOPUS_TENTACLE
$version = $env:GI_PIN_OCTOPUS_TENTACLE_VERSION
if (-not $msi -or -not $version) {
    throw 'octopus-tentacle: GI_DOWNLOAD_OCTOPUS_TENTACLE and GI_PIN_OCTOPUS_TENTACLE_VERSION are required'
}
$exe = Join-Path $env:ProgramFiles 'Octopus Deploy\Tentacle\Tentacle.exe'

function Get-TentacleVersion {
    if (-not (Test-Path -LiteralPath $exe)) { return '' }
    return "$((Get-Item -LiteralPath $exe).VersionInfo.ProductVersion)"
}

if ((Get-TentacleVersion).StartsWith($version)) {
    Write-Output "octopus-tentacle: $version already installed"
    exit 0
}
if (-not (Test-Path -LiteralPath $msi -PathType Leaf)) {
    throw "octopus-tentacle: installer $msi is missing"
}
$signature = Get-AuthenticodeSignature -FilePath $msi
if ($signature.Status -ne 'Valid' -or $signature.SignerCertificate.Subject -notmatch 'Octopus Deploy') {
    throw "octopus-tentacle: $msi is not validly signed by Octopus Deploy ($($signature.Status))"
}
$logs = 'C:\golden-images\logs'
New-Item -ItemType Directory -Path $logs -Force | Out-Null
$log = Join-Path $logs "octopus-tentacle-$version.log"
$process = Start-Process -FilePath 'msiexec.exe' -ArgumentList "/i `"$msi`" /qn /norestart /l*v `"$log`"" -Wait -PassThru
if ($process.ExitCode -notin @(0, 3010)) {
    if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Tail 40 | Write-Output }
    throw "octopus-tentacle: msiexec exited with $($process.ExitCode)"
}
$installed = Get-TentacleVersion
if (-not $installed.StartsWith($version)) {
    throw "octopus-tentacle: Tentacle.exe reports '$installed', expected $version"
}
Write-Output "octopus-tentacle: $installed installed (no instance: register at boot)"
