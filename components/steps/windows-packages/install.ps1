# Install Windows packages with Chocolatey or winget from the organisation's feed, pinned versions exact.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$manager = $env:GI_PARAM_MANAGER
$source = "$env:GI_PARAM_SOURCE".TrimEnd('/')
$packages = @("$env:GI_PARAM_PACKAGES" -split '\s+' | Where-Object { $_ })
if ($packages.Count -eq 0) { throw 'windows-packages: no packages given (parameter packages)' }
foreach ($spec in $packages) {
    if ($spec -notmatch '^[A-Za-z0-9][A-Za-z0-9._+-]*(=[0-9][A-Za-z0-9._+-]*)?$') {
        throw "windows-packages: '$spec' is not a package id (name or name=version)"
    }
}
if ($source -and $source -notmatch '^https://[^/@?#]+(/[^?#@]*)?$') {
    throw "windows-packages: source '$source' must be an https URL without credentials or query string"
}
[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12

function Invoke-Native([string]$What, [string]$File, [string[]]$Arguments) {
    # Five attempts: feeds behind proxies are flaky.
    for ($attempt = 1; ; $attempt++) {
        & $File @Arguments
        $code = $LASTEXITCODE
        if ($code -eq 0) { return }
        if ($attempt -ge 5) { throw "windows-packages: $What failed with exit code $code (5 attempts)" }
        Write-Output "windows-packages: $What exited $code; retrying in $($attempt * 10)s"
        Start-Sleep -Seconds ($attempt * 10)
    }
}

if ($manager -eq 'chocolatey') {
    if (-not $source) {
        throw 'windows-packages: Chocolatey needs parameter source (your internal Chocolatey feed); the public community repository is rate-limited and not for organisational use'
    }
    $choco = Join-Path $env:ProgramData 'chocolatey\bin\choco.exe'
    if (-not (Test-Path -LiteralPath $choco)) {
        # Bootstrap from the feed, as Chocolatey's own install.ps1 does from its repository:
        # the chocolatey package (a zip) at the pinned version, then its tools\chocolateyInstall.ps1.
        $version = $env:GI_PIN_CHOCOLATEY_VERSION
        $work = Join-Path 'C:\golden-images\downloads' 'windows-packages-chocolatey'
        New-Item -ItemType Directory -Path $work -Force | Out-Null
        $package = Join-Path $work "chocolatey.$version.zip"
        for ($attempt = 1; ; $attempt++) {
            try {
                Invoke-WebRequest -Uri "$source/package/chocolatey/$version" -OutFile $package -UseBasicParsing
                break
            } catch {
                if ($attempt -ge 5) { throw "windows-packages: chocolatey $version not found on $source ($($_.Exception.Message))" }
                Start-Sleep -Seconds ($attempt * 10)
            }
        }
        Expand-Archive -LiteralPath $package -DestinationPath (Join-Path $work 'package') -Force
        $installer = Join-Path $work 'package\tools\chocolateyInstall.ps1'
        & "$env:SystemRoot\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $installer
        if ($LASTEXITCODE -ne 0) { throw "windows-packages: the Chocolatey $version bootstrap exited with $LASTEXITCODE" }
        if (-not (Test-Path -LiteralPath $choco)) { throw "windows-packages: the Chocolatey $version bootstrap left no $choco" }
        Remove-Item -LiteralPath $work -Recurse -Force
    }
    # Only the organisation's feed: the community repository is removed as a source.
    $remove = @('source', 'remove', '--name=chocolatey', '--limit-output')
    & $choco @remove | Out-Null
    if ($LASTEXITCODE -ne 0) { Write-Output "windows-packages: no default chocolatey source to remove" }
    Invoke-Native 'choco source add' $choco @('source', 'add', '--name=golden-images', "--source=$source", '--priority=1', '--limit-output')
    foreach ($spec in $packages) {
        $name, $version = $spec -split '=', 2
        $arguments = @('install', $name, '--yes', '--no-progress', '--limit-output', '--source=golden-images')
        if ($version) { $arguments += @("--version=$version", '--allow-downgrade') }
        Invoke-Native "choco install $spec" $choco $arguments
    }
} else {
    $winget = Get-Command winget.exe -ErrorAction SilentlyContinue
    if (-not $winget) {
        throw 'windows-packages: winget is not on this image (Windows Server 2022 does not ship it; Windows 11 and Windows Server 2025 do); use manager: chocolatey'
    }
    $sourceName = 'winget'
    if ($source) {
        $sourceName = 'golden-images'
        Invoke-Native 'winget source add' $winget.Source @('source', 'add', '--name', $sourceName, '--arg', $source, '--type', 'Microsoft.Rest', '--accept-source-agreements')
    }
    foreach ($spec in $packages) {
        $name, $version = $spec -split '=', 2
        $arguments = @('install', '--id', $name, '--exact', '--source', $sourceName, '--silent', '--scope', 'machine',
                       '--accept-package-agreements', '--accept-source-agreements', '--disable-interactivity')
        if ($version) { $arguments += @('--version', $version) }
        Invoke-Native "winget install $spec" $winget.Source $arguments
    }
}
Write-Output "windows-packages: installed $($packages -join ', ') with $manager"
