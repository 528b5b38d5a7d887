# Prove Tentacle is installed at the pinned version and not registered: no instance, no service.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$version = $env:GI_PIN_OCTOPUS_TENTACLE_VERSION
$exe = Join-Path $env:ProgramFiles 'Octopus Deploy\Tentacle\Tentacle.exe'
if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) {
    throw "octopus-tentacle: $exe is missing"
}
$installed = "$((Get-Item -LiteralPath $exe).VersionInfo.ProductVersion)"
if (-not $installed.StartsWith($version)) {
    throw "octopus-tentacle: Tentacle.exe reports '$installed', expected $version"
}
Write-Output "octopus-tentacle: $installed installed"

$services = @(Get-Service -Name 'OctopusDeploy Tentacle*' -ErrorAction Stop | Where-Object { $_ })
if ($services.Count -gt 0) {
    throw "octopus-tentacle: Tentacle instance service(s) exist in the image: $($services.Name -join ', '); register at boot"
}
$instances = Join-Path $env:ProgramData 'Octopus\Tentacle\Instances'
if ((Test-Path -LiteralPath $instances) -and @(Get-ChildItem -LiteralPath $instances -File).Count -gt 0) {
    throw "octopus-tentacle: Tentacle instances are configured in $instances; register at boot"
}
Write-Output 'octopus-tentacle: no instance configured or registered'
