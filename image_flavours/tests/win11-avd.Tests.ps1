# Image tests for win11-avd, run in the image by the image-tests step.
# A test fails by throwing, which every Pester version (in-box 3.4 or 5.x) understands.

Describe 'win11-avd' {
    It 'is Windows 11 Enterprise multi-session' {
        $os = Get-CimInstance -ClassName Win32_OperatingSystem
        if ($os.Caption -notmatch 'Windows 11 Enterprise multi-session') { throw "edition is '$($os.Caption)'" }
    }

    It 'refuses SMBv1 and NTLMv1' {
        if ((Get-SmbServerConfiguration).EnableSMB1Protocol) { throw 'SMBv1 server is enabled' }
        $level = Get-ItemPropertyValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa' -Name LmCompatibilityLevel
        if ($level -ne 5) { throw "LmCompatibilityLevel is $level" }
    }
}
