# Image tests for windows-2022-core-dotnet-iis, run in the image by the image-tests step.
# A test fails by throwing, which every Pester version (in-box 3.4 or 5.x) understands.

Describe 'windows-2022-core-dotnet-iis' {
    It 'serves with IIS' {
        $w3svc = Get-Service -Name W3SVC
        if ($w3svc.Status -ne 'Running') { throw "W3SVC is $($w3svc.Status)" }
        if ((Get-WindowsFeature -Name Web-Asp-Net45).InstallState -ne 'Installed') { throw 'ASP.NET 4.8 on IIS is missing' }
    }

    It 'hosts ASP.NET Core 10 in IIS' {
        if (-not (Test-Path "$env:windir\System32\inetsrv\aspnetcorev2.dll")) { throw 'the ASP.NET Core Module is missing' }
        $runtimes = & "$env:ProgramFiles\dotnet\dotnet.exe" --list-runtimes
        if (-not ($runtimes -match '^Microsoft\.AspNetCore\.App 10\.0\.')) { throw "no ASP.NET Core 10 runtime: $runtimes" }
    }

    It 'has .NET Framework 4.8 or later' {
        $release = Get-ItemPropertyValue 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -Name Release
        if ($release -lt 528040) { throw ".NET Framework release $release is older than 4.8" }
    }

    It 'leaves the Datadog Agent stopped until configuration management starts it' {
        $running = @(Get-Service -Name 'datadog*' | Where-Object { $_.Status -ne 'Stopped' })
        if ($running.Count -gt 0) { throw "running: $($running.Name -join ', ')" }
    }

    It 'refuses SMBv1 and NTLMv1' {
        if ((Get-SmbServerConfiguration).EnableSMB1Protocol) { throw 'SMBv1 server is enabled' }
        $level = Get-ItemPropertyValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa' -Name LmCompatibilityLevel
        if ($level -ne 5) { throw "LmCompatibilityLevel is $level" }
    }
}
