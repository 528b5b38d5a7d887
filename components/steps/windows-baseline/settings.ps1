# The Windows CIS Level 1 baseline settings, shared by install.ps1 (applies them) and check.ps1
# (proves them): the step inserts this file into both (`includes` in step.yaml).
# CIS Microsoft Windows Server 2022 Benchmark, Level 1 - Member Server. Each entry names the
# item it implements (README.md gives the titles); tests/steps keeps them and the README in agreement.
$ErrorActionPreference = 'Stop'  # inserted ahead of the script's own lines
$systemAccess = @(  # account policies: secedit [System Access] key = value
    @('1.1.1', 'PasswordHistorySize', 24), @('1.1.2', 'MaximumPasswordAge', 365),
    @('1.1.3', 'MinimumPasswordAge', 1), @('1.1.4', 'MinimumPasswordLength', 14),
    @('1.1.5', 'PasswordComplexity', 1), @('1.1.7', 'ClearTextPassword', 0),
    @('1.2.1', 'LockoutDuration', 15), @('1.2.2', 'LockoutBadCount', 5),
    @('1.2.4', 'ResetLockoutCount', 15), @('2.3.10.1', 'LSAAnonymousNameLookup', 0)
)
$lsa = 'HKLM:\SYSTEM\CurrentControlSet\Control\Lsa'
$msv = "$lsa\MSV1_0"
$pol = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System'
$wks = 'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters'
$srv = 'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters'
# registry: id, key, value name, data (an [int] is a DWORD, a [string] a REG_SZ)
$registry = @(
    @('1.1.6', 'HKLM:\SYSTEM\CurrentControlSet\Control\SAM', 'RelaxMinimumPasswordLengthLimits', 1),
    @('2.3.2.1', $lsa, 'SCENoApplyLegacyAuditPolicy', 1),
    @('2.3.7.1', $pol, 'DisableCAD', 0),
    @('2.3.7.2', $pol, 'DontDisplayLastUserName', 1),
    @('2.3.7.3', $pol, 'InactivityTimeoutSecs', 900),
    @('2.3.8.1', $wks, 'RequireSecuritySignature', 1),
    @('2.3.8.2', $wks, 'EnableSecuritySignature', 1),
    @('2.3.8.3', $wks, 'EnablePlainTextPassword', 0),
    @('2.3.9.1', $srv, 'AutoDisconnect', 15),
    @('2.3.9.2', $srv, 'RequireSecuritySignature', 1),
    @('2.3.9.3', $srv, 'EnableSecuritySignature', 1),
    @('2.3.9.4', $srv, 'EnableForcedLogOff', 1),
    @('2.3.9.5', $srv, 'SmbServerNameHardeningLevel', 1),
    @('2.3.10.2', $lsa, 'RestrictAnonymousSAM', 1),
    @('2.3.10.3', $lsa, 'RestrictAnonymous', 1),
    @('2.3.10.5', $lsa, 'EveryoneIncludesAnonymous', 0),
    @('2.3.10.9', $srv, 'RestrictNullSessAccess', 1),
    @('2.3.10.11', $lsa, 'ForceGuest', 0),
    @('2.3.11.1', $lsa, 'UseMachineId', 1),
    @('2.3.11.2', $msv, 'AllowNullSessionFallback', 0),
    @('2.3.11.3', "$lsa\pku2u", 'AllowOnlineID', 0),
    @('2.3.11.4', "$pol\Kerberos\Parameters", 'SupportedEncryptionTypes', 2147483640),
    @('2.3.11.5', $lsa, 'NoLMHash', 1),
    @('2.3.11.7', $lsa, 'LmCompatibilityLevel', 5),
    @('2.3.11.8', 'HKLM:\SYSTEM\CurrentControlSet\Services\LDAP', 'LDAPClientIntegrity', 1),
    @('2.3.11.9', $msv, 'NTLMMinClientSec', 537395200),
    @('2.3.11.10', $msv, 'NTLMMinServerSec', 537395200),
    @('2.3.13.1', $pol, 'ShutdownWithoutLogon', 0),
    @('2.3.15.1', 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Kernel', 'ObCaseInsensitive', 1),
    @('2.3.15.2', 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager', 'ProtectionMode', 1),
    @('2.3.17.2', $pol, 'ConsentPromptBehaviorAdmin', 2),
    @('2.3.17.3', $pol, 'ConsentPromptBehaviorUser', 0),
    @('2.3.17.4', $pol, 'EnableInstallerDetection', 1),
    @('2.3.17.5', $pol, 'EnableSecureUIAPaths', 1),
    @('2.3.17.6', $pol, 'EnableLUA', 1),
    @('2.3.17.7', $pol, 'PromptOnSecureDesktop', 1),
    @('2.3.17.8', $pol, 'EnableVirtualization', 1),
    @('18.4.4', $srv, 'SMB1', 0),
    @('18.4.6', 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\kernel', 'DisableExceptionChainValidation', 0),
    @('18.4.8', 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\WDigest', 'UseLogonCredential', 0),
    @('18.5.1', 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon', 'AutoAdminLogon', '0'),
    @('18.5.2', 'HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip6\Parameters', 'DisableIPSourceRouting', 2),
    @('18.5.3', 'HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters', 'DisableIPSourceRouting', 2),
    @('18.5.5', 'HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters', 'EnableICMPRedirect', 0),
    @('18.5.7', 'HKLM:\SYSTEM\CurrentControlSet\Services\NetBT\Parameters', 'NoNameReleaseOnDemand', 1),
    @('18.5.9', 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager', 'SafeDllSearchMode', 1),
    @('18.9.3.1', "$pol\Audit", 'ProcessCreationIncludeCmdLine_Enabled', 1)
)
$audit = @(  # advanced audit policy: id, subcategory, success, failure
    @('17.1.1', 'Credential Validation', $true, $true),
    @('17.2.1', 'Application Group Management', $true, $true),
    @('17.2.5', 'Security Group Management', $true, $false),
    @('17.2.6', 'User Account Management', $true, $true),
    @('17.3.1', 'Plug and Play Events', $true, $false),
    @('17.3.2', 'Process Creation', $true, $false),
    @('17.5.1', 'Account Lockout', $false, $true),
    @('17.5.2', 'Group Membership', $true, $false)
)
$firewall = @(  # id, profile, setting: the profile is on / blocks inbound unless a rule allows
    @('9.1.1', 'Domain', 'Enabled'), @('9.1.2', 'Domain', 'DefaultInboundAction'),
    @('9.2.1', 'Private', 'Enabled'), @('9.2.2', 'Private', 'DefaultInboundAction'),
    @('9.3.1', 'Public', 'Enabled'), @('9.3.2', 'Public', 'DefaultInboundAction')
)
