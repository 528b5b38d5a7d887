# Helpers of the Windows install scripts that run vendors' installers. Steps that list
# `libraries: [installers]` get these after their environment.
$ErrorActionPreference = 'Stop'  # inserted ahead of the script's own lines

# Defence in depth after the sha256 check: the installer carries its vendor's valid signature.
function Assert-Signed([string]$Path, [string]$Subject, [string]$Signer, [string]$Step) {
    $signature = Get-AuthenticodeSignature -FilePath $Path
    if ($signature.Status -ne 'Valid' -or $signature.SignerCertificate.Subject -notmatch $Subject) {
        throw "${Step}: $Path is not validly signed by $Signer ($($signature.Status))"
    }
}

# Where an installer writes its log: C:\golden-images\logs\<name>.log (cleanup removes the folder).
function New-InstallLog([string]$Name) {
    $logs = 'C:\golden-images\logs'
    New-Item -ItemType Directory -Path $logs -Force | Out-Null
    return (Join-Path $logs "$Name.log")
}

# msiexec /i, quiet, verbose log; 0 and 3010 (restart wanted) succeed, anything else shows the log's end.
function Install-Msi([string]$Path, [string]$Log, [string]$Step) {
    $process = Start-Process -FilePath 'msiexec.exe' -ArgumentList "/i `"$Path`" /qn /norestart /l*v `"$Log`"" -Wait -PassThru
    if ($process.ExitCode -notin @(0, 3010)) {
        if (Test-Path -LiteralPath $Log) { Get-Content -LiteralPath $Log -Tail 40 | Write-Output }
        throw "${Step}: msiexec exited with $($process.ExitCode)"
    }
}
