# Download a team's MSI/EXE over https with retries, verify its sha256, then run it.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$name = $env:GI_PARAM_NAME
$url = "$env:GI_PARAM_URL"
$path = "$env:GI_PARAM_PATH"
$expected = "$env:GI_PARAM_SHA256".ToLowerInvariant()
$type = $env:GI_PARAM_TYPE
$arguments = "$env:GI_PARAM_ARGUMENTS"
$creates = $env:GI_PARAM_CREATES
if (-not $name -or -not ($url -or $path) -or -not $creates -or $expected -notmatch '^[0-9a-f]{64}$') {
    throw 'generic-installer: name, url or path, sha256 (64 hex digits) and creates are required'
}
if ($type -notin @('msi', 'exe')) {
    throw "generic-installer: type '$type' cannot run on Windows (use msi or exe)"
}
if ($url -and -not $url.StartsWith('https://')) {
    throw "generic-installer: $url is not an https URL"
}
if (Test-Path -LiteralPath $creates) {
    Write-Output "generic-installer: $name already installed ($creates exists)"
    exit 0
}

[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
$folder = Join-Path 'C:\golden-images\downloads' "generic-installer-$name"
New-Item -ItemType Directory -Path $folder -Force | Out-Null
if ($path) {
    # Placed by an artifact step: verified again here, whatever fetched it.
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { throw "generic-installer: $path does not exist (an artifact step places it first)" }
    $file = $path
    $url = $path
}
else {
    $file = Join-Path $folder ([IO.Path]::GetFileName(([Uri]$url).AbsolutePath))
}
for ($attempt = 1; -not $path; $attempt++) {
    try {
        Invoke-WebRequest -Uri $url -OutFile $file -UseBasicParsing
        break
    } catch {
        if ($attempt -ge 5) { throw "generic-installer: download of $url failed 5 times: $($_.Exception.Message)" }
        Write-Output "generic-installer: download attempt $attempt failed ($($_.Exception.Message)); retrying in $($attempt * 10)s"
        Start-Sleep -Seconds ($attempt * 10)
    }
}
$actual = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()
if ($actual -ne $expected) {
    Remove-Item -LiteralPath $file -Force
    throw "generic-installer: sha256 mismatch for $url (expected $expected, got $actual); nothing was run"
}
Write-Output "generic-installer: $file verified (sha256 $actual)"

$log = New-InstallLog "generic-installer-$name"
if ($type -eq 'msi') {
    $process = Start-Process -FilePath 'msiexec.exe' -ArgumentList "/i `"$file`" /qn /norestart /l*v `"$log`" $arguments" -Wait -PassThru
} else {
    if ($arguments) {
        $process = Start-Process -FilePath $file -ArgumentList $arguments -Wait -PassThru
    } else {
        $process = Start-Process -FilePath $file -Wait -PassThru
    }
}
$code = $process.ExitCode
if ($code -ne 0) {
    if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Tail 40 | Write-Output }
    # Non-zero codes are the flavour's to accept (options.valid_exit_codes, e.g. 3010).
    Write-Output "generic-installer: installer exited with $code"
}
if (-not (Test-Path -LiteralPath $creates)) {
    throw "generic-installer: $name installer finished (exit $code) but $creates does not exist"
}
Remove-Item -LiteralPath $folder -Recurse -Force
Write-Output "generic-installer: $name installed ($creates exists)"
exit $code
